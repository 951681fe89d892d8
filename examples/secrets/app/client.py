"""Client for the demo maps and auth services (FAKE credentials for scanner tests)."""
import os

import requests

MAPS_API_KEY = "AIzaFAKEfake-FAKE_fake0123456789abcdefg"
SERVICE_TOKEN = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJmYWtlLXVzZXIiLCJuYW1lIjoiRmFrZSBVc2VyIn0.FAKEsignatureFAKEsignatureFAKE0123"
client_secret = "fake_9Tq2!vLp#xR7wZ"

# Read from the environment: not findings.
api_key = os.environ["DEMO_API_KEY"]
password = os.getenv("DEMO_PASSWORD", "")


def fetch(path: str, token: str = SERVICE_TOKEN) -> dict:
    headers = {"Authorization": f"Bearer {token}"}
    return requests.get("https://api.demo.invalid" + path, headers=headers, timeout=10).json()
