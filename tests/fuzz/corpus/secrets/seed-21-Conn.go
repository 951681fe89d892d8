// Split credentials (planted test values, never valid).
package conn

const prefix = "postgres://billing:"
const pass = "Hq7vZ2mLx9Tp"
const DSN = prefix + pass + "@db.internal/billing"
