#!/usr/bin/env python3
"""Independent CMS oracle: validates a detached CMS signature with pyHanko
(validate_detached_cms), used where OpenSSL 3.0 cannot (Ed25519, RFC 8419).

usage: pyhanko_cms_verify.py SIGNATURE.p7s CONTENT TRUST_ROOT.pem
prints "intact=<bool> valid=<bool> trusted=<bool>"; exit 0 only if all three hold.
"""
import asyncio
import sys

from asn1crypto import cms, pem, x509
from pyhanko.sign.validation import async_validate_detached_cms
from pyhanko_certvalidator import ValidationContext


def load_cert(path):
    data = open(path, "rb").read()
    if pem.detect(data):
        _, _, data = pem.unarmor(data)
    return x509.Certificate.load(data)


def main():
    sig_path, content_path, root_path = sys.argv[1:4]
    ci = cms.ContentInfo.load(open(sig_path, "rb").read())
    vc = ValidationContext(trust_roots=[load_cert(root_path)], allow_fetching=False)
    status = asyncio.run(
        async_validate_detached_cms(open(content_path, "rb").read(), ci["content"], signer_validation_context=vc)
    )
    print(f"intact={status.intact} valid={status.valid} trusted={status.trusted}")
    sys.exit(0 if (status.intact and status.valid and status.trusted) else 1)


if __name__ == "__main__":
    main()
