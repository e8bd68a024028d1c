"""The daemon: one process per home that takes in, consolidates and serves over a local
socket, and the client that talks to it."""
