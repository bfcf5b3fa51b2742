"""Build a small real IMF package at test time: ffmpeg writes the MXF track files, this writes
the CPL, PKL and ASSETMAP with real UUIDs, sizes and base64 SHA-1 (ST 2067-2/-3, ST 429-9)."""

from __future__ import annotations

import base64
import hashlib
import re
import subprocess
import uuid
from dataclasses import dataclass, field
from pathlib import Path

NS = {
    2013: ("http://www.smpte-ra.org/schemas/2067-3/2013", "http://www.smpte-ra.org/schemas/2067-2/2013",
           "http://www.smpte-ra.org/schemas/429-8/2007/PKL"),
    2016: ("http://www.smpte-ra.org/schemas/2067-3/2016", "http://www.smpte-ra.org/schemas/2067-2/2016",
           "http://www.smpte-ra.org/schemas/2067-2/2016/PKL"),
    2020: ("http://www.smpte-ra.org/ns/2067-3/2020", "http://www.smpte-ra.org/ns/2067-2/2020",
           "http://www.smpte-ra.org/schemas/2067-2/2016/PKL"),
}
AM = "http://www.smpte-ra.org/schemas/429-9/2007/AM"


def urn() -> str:
    return f"urn:uuid:{uuid.uuid4()}"


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", *args], check=True, capture_output=True)


def video_mxf(out: Path, seconds: float = 2, source: str = "testsrc=size=160x120:rate=24") -> Path:
    ffmpeg("-f", "lavfi", "-i", source, "-t", str(seconds), "-r", "24", "-c:v", "mpeg2video", "-q:v", "3",
           "-f", "mxf", str(out))
    return out


def still_mxf(still: Path, out: Path, seconds: float = 1) -> Path:
    """A still turned into a picture track file (what an editor's render of a plate does)."""
    ffmpeg("-loop", "1", "-i", str(still), "-t", str(seconds), "-r", "24",
           "-vf", "scale=320:-2,format=yuv420p", "-c:v", "mpeg2video", "-q:v", "2", "-f", "mxf", str(out))
    return out


def audio_mxf(out: Path, seconds: float = 2) -> Path:
    ffmpeg("-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-t", str(seconds), "-ac", "1",
           "-c:a", "pcm_s24le", "-f", "mxf_opatom", str(out))
    return out


@dataclass
class Track:
    file: str  # name inside the package
    kind: str  # MainImageSequence | MainAudioSequence
    duration: int  # intrinsic duration in its own edit units
    rate: str = "24 1"
    id: str = field(default_factory=urn)


@dataclass
class Built:
    root: Path
    cpl_id: str
    pkl_id: str
    tracks: dict[str, Track]

    def uuid_of(self, file: str) -> str:
        return self.tracks[file].id


def _sha1(path: Path) -> str:
    return base64.b64encode(hashlib.sha1(path.read_bytes()).digest()).decode()


def _resource(t: Track, entry: int, duration: int) -> str:
    return (f"<Resource xsi:type=\"TrackFileResourceType\"><Id>{urn()}</Id><EditRate>{t.rate}</EditRate>"
            f"<IntrinsicDuration>{t.duration}</IntrinsicDuration><EntryPoint>{entry}</EntryPoint>"
            f"<SourceDuration>{duration}</SourceDuration><RepeatCount>1</RepeatCount>"
            f"<SourceEncoding>{urn()}</SourceEncoding><TrackFileId>{t.id}</TrackFileId></Resource>")


def write_package(root: Path, tracks: list[Track], segments: list[list[tuple[str, int, int]]], *,
                  year: int = 2016, title: str = "EP101 Final", start: str = "01:00:00:00") -> Built:
    """CPL (each segment: (track file, entry point, duration) per resource, grouped by the
    track's sequence kind), PKL over every asset, ASSETMAP over every asset and the PKL."""
    cpl_ns, cc_ns, pkl_ns = NS[year]
    by_file = {t.file: t for t in tracks}
    track_ids = {kind: urn() for kind in dict.fromkeys(t.kind for t in tracks)}
    segs = []
    for seg in segments:
        kinds: dict[str, list[str]] = {}
        for file, entry, duration in seg:
            t = by_file[file]
            kinds.setdefault(t.kind, []).append(_resource(t, entry, duration))
        seqs = "".join(f"<cc:{k}><Id>{urn()}</Id><TrackId>{track_ids[k]}</TrackId><ResourceList>{''.join(r)}"
                       f"</ResourceList></cc:{k}>" for k, r in kinds.items())
        segs.append(f"<Segment><Id>{urn()}</Id><SequenceList>{seqs}</SequenceList></Segment>")
    cpl_id, pkl_id = urn(), urn()
    cpl = (f'<?xml version="1.0" encoding="UTF-8"?>\n'
           f'<CompositionPlaylist xmlns="{cpl_ns}" xmlns:cc="{cc_ns}" '
           f'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><Id>{cpl_id}</Id>'
           f"<IssueDate>2026-12-02T00:00:00Z</IssueDate><ContentTitle>{title}</ContentTitle>"
           f"<CompositionTimecode><TimecodeDropFrame>false</TimecodeDropFrame><TimecodeRate>24</TimecodeRate>"
           f"<TimecodeStartAddress>{start}</TimecodeStartAddress></CompositionTimecode>"
           f"<EditRate>24 1</EditRate><SegmentList>{''.join(segs)}</SegmentList></CompositionPlaylist>\n")
    cpl_file = f"CPL_{cpl_id[9:]}.xml"
    (root / cpl_file).write_text(cpl)
    listed = [(cpl_id, cpl_file, "text/xml"), *((t.id, t.file, "application/mxf") for t in tracks)]
    algo = ('<HashAlgorithm Algorithm="http://www.w3.org/2000/09/xmldsig#sha1"/>' if year != 2013 else "")
    assets = "".join(f"<Asset><Id>{i}</Id><Hash>{_sha1(root / f)}</Hash>"
                     f"<Size>{(root / f).stat().st_size}</Size>"
                     f"<Type>{ty}</Type><OriginalFileName>{f}</OriginalFileName>{algo}</Asset>"
                     for i, f, ty in listed)
    pkl_file = f"PKL_{pkl_id[9:]}.xml"
    (root / pkl_file).write_text(f'<?xml version="1.0" encoding="UTF-8"?>\n<PackingList xmlns="{pkl_ns}">'
                                 f"<Id>{pkl_id}</Id><IssueDate>2026-12-02T00:00:00Z</IssueDate>"
                                 f"<AssetList>{assets}</AssetList></PackingList>\n")
    mapped = [(pkl_id, pkl_file, True), *((i, f, False) for i, f, _ in listed)]
    chunks = "".join(f"<Asset><Id>{i}</Id>{'<PackingList>true</PackingList>' if pk else ''}<ChunkList><Chunk>"
                     f"<Path>{f}</Path></Chunk></ChunkList></Asset>" for i, f, pk in mapped)
    (root / "ASSETMAP.xml").write_text(f'<?xml version="1.0" encoding="UTF-8"?>\n<AssetMap xmlns="{AM}">'
                                       f"<Id>{urn()}</Id><VolumeCount>1</VolumeCount>"
                                       f"<AssetList>{chunks}</AssetList></AssetMap>\n")
    return Built(root, cpl_id, pkl_id, by_file)


def relist(built: Built) -> None:
    """Rewrite the PKL's Hash and Size from the files as they are now (same UUIDs): what
    someone who changed an asset and covered their tracks would do."""
    pkl = next(built.root.glob("PKL_*.xml"))
    text = pkl.read_text()

    def fix(m: re.Match[str]) -> str:
        f = built.root / m.group("name")
        return (f"<Hash>{_sha1(f)}</Hash><Size>{f.stat().st_size}</Size>{m.group('mid')}"
                f"<OriginalFileName>{m.group('name')}</OriginalFileName>")

    pkl.write_text(re.sub(r"<Hash>[^<]*</Hash><Size>\d+</Size>(?P<mid>.*?)<OriginalFileName>(?P<name>[^<]+)"
                          r"</OriginalFileName>", fix, text))


def reel_mxf(still: Path, out: Path) -> Path:
    """A three-second reel: one second of test pattern, one rendered from `still`, one of
    another pattern (an AI shot cut into a reel's picture track file)."""
    ffmpeg("-f", "lavfi", "-i", "testsrc=size=320x240:rate=24:duration=1",
           "-loop", "1", "-t", "1", "-r", "24", "-i", str(still),
           "-f", "lavfi", "-i", "mandelbrot=size=320x240:rate=24", "-t", "3",
           "-filter_complex", "[1:v]scale=320:240,setsar=1,format=yuv420p[ai];[2:v]trim=duration=1,"
                              "format=yuv420p[m];[0:v]format=yuv420p[a];[a][ai][m]concat=n=3:v=1[v]",
           "-map", "[v]", "-c:v", "mpeg2video", "-q:v", "2", "-f", "mxf", str(out))
    return out
