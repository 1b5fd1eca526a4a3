"""What a query pool, its children and the server workers say to each other, beyond a query's own messages.

Its own module, importing nothing, because both sides load it: the master of a server (which keeps the pool
and must not load the engine) and each query child (which pays for every import in memory).
"""

CHUNK_BYTES = 64 * 1024  # a child sends results in pieces of this size; smaller results go in one message
READY = b"r"  # on a child's life line: the store is open
ACCEPTED = b"p"  # first message of a child on a query's connection, followed by its process id
