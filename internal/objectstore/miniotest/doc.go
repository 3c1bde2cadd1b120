// Package miniotest runs a real MinIO server for a test binary's tests and gives each test a
// bucket of its own on it, as internal/pgtest gives each a database: the S3 store is tested
// against a real S3 server, never a fake.
//
// The server is the binary deploy/local/minio.sh build leaves at .cache/minio/minio (or the
// one PASSAGE_MINIO_BIN names), started on the first call to Bucket, with its data in a
// temporary folder (in memory, /dev/shm, when there is room), serving TLS with a certificate
// made for the run (the bucket trusts it as PASSAGE_S3_CA_FILE would), and stopped by Main when the tests end. Without the binary the
// test fails, saying how to build it; only PASSAGE_TEST_S3=skip turns that into a skip,
// loudly, for a machine that cannot build it. CI builds it (make test).
//
// LinkedBucket puts a Link between the bucket and the server, a proxy the test cuts and
// mends, to see what callers do while the store is out of reach.
package miniotest
