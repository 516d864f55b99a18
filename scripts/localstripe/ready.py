"""Waits until localstripe answers GET /v1/customers on 127.0.0.1:PORT, or its process ends.

Usage: ready.py PORT PID TIMEOUT_SECONDS; exits 0 once it answers 200, 1 otherwise.
"""

import base64
import os
import sys
import time
import urllib.request

port, pid, timeout = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
auth = base64.b64encode(b"sk_test_ready:").decode()
request = urllib.request.Request(f"http://127.0.0.1:{port}/v1/customers?limit=1",
                                 headers={"Authorization": f"Basic {auth}"})
deadline = time.monotonic() + timeout
while time.monotonic() < deadline:
    try:
        os.kill(pid, 0)
    except OSError:
        sys.exit("localstripe exited")
    try:
        with urllib.request.urlopen(request, timeout=2) as answer:
            if answer.status == 200:
                sys.exit(0)
    except OSError:
        pass
    time.sleep(0.2)
sys.exit(f"localstripe did not answer within {timeout:.0f}s")
