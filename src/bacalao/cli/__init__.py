"""The `bacalao` command line (click): `bacalao.cli.main:main`.

It talks to a node only through `bacalao.client`, and imports the client,
the models and the node lazily inside commands.
"""
