"""A small example module; test_main.py shows how it is used."""

import sys


def greet(name: str = "world") -> str:
    return f"Hello, {name}!"


if __name__ == "__main__":
    print(greet(*sys.argv[1:2]))
