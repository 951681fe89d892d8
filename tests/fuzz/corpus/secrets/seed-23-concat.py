"""Split credentials (planted test values, never valid)."""
import re

AWS_ID = ("AKIAUJZD"
          "E8GXD6NC"
          "F10E")
gh_head = "ghp_dmenCkhvMdgaKjIg8x"
gh_tail = "Nbe3nNyjOq9wMxEhh2"
GITHUB_TOKEN = gh_head + gh_tail
PASSWORD_RE = re.compile(r"^Tq8vLx2mZr9!$")
GREETING = "Hello, " + "world"
