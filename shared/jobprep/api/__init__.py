"""The HTTP edge shared by every API function: parse and check the request (request.py,
cursor.py), map domain errors to statuses (errors.py), build replies (replies.py), the
resolver (resolver.py) and the Lambda entrypoint (entrypoint.py). Nothing below imports it."""
