"""Build a big X12 850 interchange out of the real samples' messages (for the parse-speed bench
and the 10,000-message test): every ST…SE of every `850-*` sample in turn, renumbered, in one
ISA/GS with `*` `>` `~` and a newline after each segment."""
from __future__ import annotations

from pathlib import Path

from core.edi.x12 import parse_x12


def sample_messages(x12_dir: Path) -> list[list[list[str]]]:
    """The 850 messages of the samples, each as its list of split segments (ST…SE)."""
    out = []
    for f in sorted(x12_dir.glob("850-*")):
        for ic in parse_x12(f.read_bytes()):
            out += [m.segments for m in ic.messages if m.type == "850"]
    return out


def build_x12_interchange(x12_dir: Path, messages: int) -> str:
    """One interchange of `messages` purchase orders (ST02 0000001…, SE01 recounted)."""
    pool = sample_messages(x12_dir)
    isa = ("ISA*00*          *00*          *ZZ*BENCHPARTNER   *ZZ*ORDERQ         *261201*1200*U*00401*"
           "000000001*0*P*>~\n")
    out = [isa, "GS*PO*BENCHPARTNER*ORDERQ*20261201*1200*1*X*004010~\n"]
    for n in range(messages):
        body = pool[n % len(pool)][1:-1]
        st = f"{n + 1:07d}"
        out.append(f"ST*850*{st}~\n")
        out += ["*".join(seg) + "~\n" for seg in body]
        out.append(f"SE*{len(body) + 2}*{st}~\n")
    out.append(f"GE*{messages}*1~\nIEA*1*000000001~\n")
    return "".join(out)
