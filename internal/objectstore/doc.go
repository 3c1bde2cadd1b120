// Package objectstore keeps opaque blobs in one bucket of an S3-compatible object store
// (Amazon S3, MinIO, Ceph's RGW, Garage and the like), through minio-go: put one blob, read
// one back, list what is under a prefix, delete everything under a prefix. It knows nothing
// of what the blobs are: the documents service (services/intake/document) keeps its sealed
// chunks here when PASSAGE_DOCUMENT_STORE is s3, and decides the keys.
//
// The settings (Settings) are read from the environment by internal/bootstrap and checked
// before the server starts (Settings.Check), each error naming its variable. The endpoint is
// reached over TLS (https://) with the system's roots, or PASSAGE_S3_CA_FILE's; plain http://
// is refused outside development. The access key and the secret key are read from files
// (PASSAGE_S3_ACCESS_KEY_FILE, PASSAGE_S3_SECRET_KEY_FILE), as the other secrets are, and read
// again every few minutes, so that a rotated key is picked up without a restart. Open checks
// that the bucket exists and can be reached; it never creates one.
//
// A blob is put in one request of its known length and read back in one (memory: the blob,
// which callers keep small: a document's chunk). Errors name the operation and the bucket,
// never a key's contents beyond what the caller put in it.
//
// A store out of reach (a refused, dropped or timed-out connection, an answer of 500 and up,
// after three tries) is an error that is ErrUnavailable: the server answers the call
// UNAVAILABLE with the ErrorInfo reason OBJECT_STORE_UNAVAILABLE and nothing applied, as it
// answers a database outage, and the client retries it.
package objectstore
