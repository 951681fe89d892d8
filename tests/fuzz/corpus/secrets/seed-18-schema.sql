-- Planted test credentials, never valid.
CREATE USER orders_app WITH PASSWORD 'Qz8!vL3mTx7p';
ALTER USER reporting IDENTIFIED BY "Rp4vX9qLm2Tz";
CREATE TABLE users (id serial, password_hash text NOT NULL);
SELECT * FROM users WHERE password = $1;
