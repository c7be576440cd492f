"""`python -m qa.fronts.server` (the documented form is `python -m qa.server`)."""

from qa.fronts.server.run import main

if __name__ == "__main__":
    main()
