"""Copying one socket into another, for the tests' man-in-the-middle helpers
(the engine socket tap, the browser tests' cutting proxy)."""

import socket


def shut(sock):
    """Both directions of `sock` closed; an already closed one is fine."""
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


def copy_until_closed(src, dst):
    """Everything `src` sends goes to `dst`; when either side ends, both are
    shut, so the other direction's copy ends too."""
    try:
        while data := src.recv(65536):
            dst.sendall(data)
    except OSError:
        pass
    finally:
        shut(src)
        shut(dst)
