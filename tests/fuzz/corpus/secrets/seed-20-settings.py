"""Django-style settings (planted test credentials, never valid)."""
import os

DEBUG = False
DATABASE_PASSWORD = "Winter2024!orders"
JWT_SECRET_KEY = "k9Vt2mQx8RzL5pWn"
password = "hunter2Lamp"
SECRET_KEY = os.environ.get("SECRET_KEY", "")
PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
password_min_length = 12
token = request.headers.get("X-Token")
API_KEY = "your-api-key-here"
CELERY_BROKER_URL = "amqp://worker:Qm4vX9tLp2@rabbit.internal:5672//"
