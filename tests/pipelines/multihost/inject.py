"""inject.py SERVER_PUBLIC_KEY_FILE ENDPOINT: pushes a forged record and an
end of stream to a flowrun data endpoint under CURVE with a key pair of its
own; prints its public key once the server refused it."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "engine", "runtime"))
import wire_client as w  # noqa: E402

print(w.inject_under_curve(sys.argv[1], sys.argv[2],
                           [w.image("evil", 2, 2, source="src"), w.eos("resize#0")]))
