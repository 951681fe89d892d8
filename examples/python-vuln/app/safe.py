"""Code that looks like the planted bugs but is fine, and one reviewed exception."""
import ast
import hashlib
import json

import yaml


def load_settings(text):
    return yaml.safe_load(text)


def parse(text):
    return json.loads(text), ast.literal_eval("[1, 2]")


def cache_key(data):
    # reviewed: a cache key, not a signature, so MD5's weakness does not matter here
    return hashlib.md5(data).hexdigest()  # nosec
