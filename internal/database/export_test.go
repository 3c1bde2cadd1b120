package database

// UUIDEncodePlan is the plan registerUUID gives google/uuid values, for the external tests.
type UUIDEncodePlan = uuidEncodePlan
