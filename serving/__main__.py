"""`python -m serving <rasa arguments>`: the `rasa` command with the project's patches.

The patches of serving/rasa_patches.py are installed here,
before Rasa starts, in the process that serves; nothing patches Rasa on import.
"""

import sys

from serving import rasa_patches


def main() -> None:
    rasa_patches.install()
    from rasa.__main__ import main as rasa_main

    sys.argv[0] = "rasa"
    rasa_main()


if __name__ == "__main__":
    main()
