"""Count the flows NFStream builds from a capture (run by benches/flows/run.sh in its venv).

usage: nfstream_count.py CAPTURE [--no-dpi]
  default: NFStreamer(source=CAPTURE, statistical_analysis=False), NFStream's other defaults
           (nDPI dissection of the first 20 packets, idle 120 s, active 1800 s, meters = cores)
  --no-dpi: the same with n_dissections=0 (flow metering only, closer to Tranalyzer2/netanom)
"""
import sys

from nfstream import NFStreamer

kwargs = {"source": sys.argv[1], "statistical_analysis": False}
if "--no-dpi" in sys.argv[2:]:
    kwargs["n_dissections"] = 0
n = 0
for _ in NFStreamer(**kwargs):
    n += 1
print(n)
