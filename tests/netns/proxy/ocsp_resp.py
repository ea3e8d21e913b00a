#!/usr/bin/env python3
"""Makes OCSP responses openssl's responder will not: for the proxy's
OCSP tests.

ocsp_resp.py CERT ISSUER SIGNER_CERT SIGNER_KEY OUT [--expired]
  a "good" DER response for CERT (issued by ISSUER) signed by SIGNER;
  --expired: this/next update three and two days ago.
"""
import datetime
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp


def load_cert(path):
    with open(path, "rb") as f:
        return x509.load_pem_x509_certificate(f.read())


cert, issuer, signer = (load_cert(p) for p in sys.argv[1:4])
with open(sys.argv[4], "rb") as f:
    key = serialization.load_pem_private_key(f.read(), None)
now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
this = now - datetime.timedelta(days=3 if "--expired" in sys.argv else 0)
resp = (ocsp.OCSPResponseBuilder()
        .add_response(cert=cert, issuer=issuer, algorithm=hashes.SHA1(),
                      cert_status=ocsp.OCSPCertStatus.GOOD, this_update=this,
                      next_update=this + datetime.timedelta(days=1),
                      revocation_time=None, revocation_reason=None)
        .responder_id(ocsp.OCSPResponderEncoding.NAME, signer)
        .certificates([signer])
        .sign(key, hashes.SHA256()))
with open(sys.argv[5], "wb") as f:
    f.write(resp.public_bytes(serialization.Encoding.DER))
