"""A deliberately vulnerable report service: the sample target of the python-sast workflow.

Every weakness here is planted; do not reuse this code.
"""
import pickle
import subprocess

import yaml


def archive(name):
    # planted: the name reaches a shell
    return subprocess.call("tar czf /tmp/%s.tgz reports/" % name, shell=True)


def load_settings(path):
    with open(path) as f:
        # planted: yaml.load without a safe loader builds arbitrary objects
        return yaml.load(f)


def restore(blob):
    # planted: unpickling untrusted data runs code
    return pickle.loads(blob)


def compute(expression):
    # planted: eval of caller input
    return eval(expression)


def connect(user, password="hunter2-prod"):
    # planted: a hard-coded default password
    return {"user": user, "password": password}
