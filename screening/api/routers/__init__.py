"""The API's operations, one router per resource. Each operation checks the permission the
matching page checks, reads through the selectors, changes through the services and records the
same audit events. `screening.api.api` mounts them; they do not import it."""
