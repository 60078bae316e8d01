"""powerlunch: wires the blueprints, the schedules and the queue workers. Nothing else lives here."""

from __future__ import annotations

from chalice import Chalice

from chalicelib.routes import http, organizer

app = Chalice(app_name="powerlunch")
app.register_middleware(http.rewrite_chalice_errors, "http")
app.register_blueprint(organizer.bp)
