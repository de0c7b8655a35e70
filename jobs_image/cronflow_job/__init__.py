"""The cronflow job runner: makes one flow call and writes its result for the operator.

Runs inside the job image with the standard library, `requests` and `jmespath` only (no pydantic there).
"""
