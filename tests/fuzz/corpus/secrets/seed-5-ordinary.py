"""Ordinary code that must not be reported."""
import hashlib
import uuid

SESSION_ID = "6f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9"
DIGEST = hashlib.sha256(b"data").hexdigest()
EMPTY_SHA1 = "da39a3ee5e6b4b0d3255bfef95601890afd80709"
password_field = "password"
token_type = "Bearer"
secret_name = "orders/db"
def check(password: str, token: str = None) -> bool:
    return password == token
api_key = settings.API_KEY
auth_token = get_token(user)
PASSWORD_PROMPT = "Enter your password: "
b64_alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
ENCODED_GREETING = "SGVsbG8sIHdvcmxkISBUaGlzIGlzIG9yZGluYXJ5IHRleHQu"
HEX_COLOR_TABLE = "ff0000ff00ff00ff0000ffffffffff"
request_uuid = uuid.uuid4()
