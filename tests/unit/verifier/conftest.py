from verifier_fixtures import deps, policy, resolver  # noqa: F401 - fixtures for this folder
