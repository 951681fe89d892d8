"""Password and token handling for the demo service."""
import hashlib
import hmac
import os
import secrets

PASSWORD_MIN_LENGTH = 12
TOKEN_BYTES = 32
api_key = os.environ.get("DEMO_API_KEY", "")
db_password = os.getenv("DB_PASSWORD")
secret_key = settings.SECRET_KEY
access_token = request.headers.get("X-Access-Token")


def hash_password(password: str, salt: bytes) -> str:
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, 200_000)
    return digest.hex()


def check_password(password: str, salt: bytes, expected: str) -> bool:
    password_hash = hash_password(password, salt)
    return hmac.compare_digest(password_hash, expected)


def new_token() -> str:
    token = secrets.token_urlsafe(TOKEN_BYTES)
    return token


def is_valid(token: str, stored_token: str) -> bool:
    if token == stored_token:
        return True
    return token != "" and hmac.compare_digest(token, stored_token)


class Session:
    def __init__(self, user: str, token: str) -> None:
        self.user = user
        self.token = token
        self.secret_name = "prod/db/credentials"
        self.token_url = "https://auth.demo.invalid/oauth2/token"
