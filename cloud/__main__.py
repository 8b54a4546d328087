"""`python -m cloud`: serve the cloud services (see `companion cloud serve --help`)."""

from cli.main import main

main()
