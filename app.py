"""The dashboard's entry point: ``python app.py`` (HOST, PORT) or any WSGI server on ``server``."""

from dashboard.app import create_app, main

app = create_app()
server = app.server

if __name__ == "__main__":
    main(app)
