"""A private SMTP server for syncwatch's tests, on Debian's python3-aiosmtpd.

Usage: smtpd.py --port N --dir DIR [--starttls CERT KEY | --smtps CERT KEY]
                [--user USER --password PASSWORD]

Each message received is written to DIR/NNNN.eml (the message as received) and
DIR/NNNN.json (the envelope, whether TLS was on, who logged in), then "stored NNNN" is
printed on its own line, so that a test waits for messages instead of polling. "ready"
is printed once the port listens. While a file DIR/fail exists, messages are refused
with a temporary error (451), as a server in trouble does.
"""
import argparse
import asyncio
import json
import os
import ssl
import sys

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


class Store:
    def __init__(self, directory):
        self.directory = directory
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        if os.path.exists(os.path.join(self.directory, "fail")):
            return "451 4.3.0 Try again later (test server told to fail)"
        self.count += 1
        name = "%04d" % self.count
        tls = session.ssl is not None or server.transport.get_extra_info("ssl_object") is not None
        login = session.login_data.decode() if isinstance(session.login_data, bytes) else session.login_data
        meta = {"mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos, "tls": tls, "login": login}
        for ext, data in ((".eml", envelope.original_content), (".json", json.dumps(meta).encode())):
            tmp = os.path.join(self.directory, name + ext + ".tmp")
            with open(tmp, "wb") as f:
                f.write(data)
            os.rename(tmp, os.path.join(self.directory, name + ext))
        print("stored " + name, flush=True)
        return "250 2.0.0 Stored"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--dir", required=True)
    p.add_argument("--starttls", nargs=2)
    p.add_argument("--smtps", nargs=2)
    p.add_argument("--user")
    p.add_argument("--password")
    a = p.parse_args()

    def authenticate(server, session, envelope, mechanism, data):
        ok = isinstance(data, LoginPassword) and data.login.decode() == a.user and data.password.decode() == a.password
        return AuthResult(success=ok, handled=False, auth_data=data)

    tls_context = None
    for pair in (a.starttls, a.smtps):
        if pair:
            tls_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            tls_context.load_cert_chain(pair[0], pair[1])
    kwargs = {"enable_SMTPUTF8": True, "decode_data": False}
    if a.starttls:
        kwargs.update(tls_context=tls_context, require_starttls=True)
    if a.user:
        kwargs.update(authenticator=authenticate, auth_required=True,
                      auth_require_tls=bool(a.starttls))
    store = Store(a.dir)
    loop = asyncio.new_event_loop()
    server = loop.run_until_complete(loop.create_server(
        lambda: SMTP(store, hostname="syncwatch-test-smtp", **kwargs),
        host="127.0.0.1", port=a.port, ssl=tls_context if a.smtps else None))
    print("ready", flush=True)
    try:
        loop.run_forever()
    finally:
        server.close()


if __name__ == "__main__":
    sys.exit(main())
