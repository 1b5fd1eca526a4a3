"""The command line, `cdv`: build, validate, serve, query, stats, extract, synth (`cli.main`).

May use: every other part. Heavy parts are imported inside the commands that need them, so `cdv --help` and
`cdv extract` load neither Flask nor a store.
"""
