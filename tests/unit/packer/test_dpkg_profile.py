# -*- coding: utf-8 -*-
"""packer/scripts/dpkg_profile.py: dpkg's time per activity and package from a dpkg.log."""
import os
import sys

SCRIPTS = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", "packer", "scripts"))
sys.path.insert(0, SCRIPTS)
import dpkg_profile  # noqa: E402

LOG = """\
2026-12-04 14:15:02 startup archives unpack
2026-12-04 14:15:03 upgrade ca-certificates:all 20230311 20250419~deb12u2
2026-12-04 14:15:03 status half-configured ca-certificates:all 20230311
2026-12-04 14:15:03 status unpacked ca-certificates:all 20230311
2026-12-04 14:15:03 status half-installed ca-certificates:all 20230311
2026-12-04 14:15:04 status unpacked ca-certificates:all 20250419~deb12u2
2026-12-04 14:15:04 startup packages configure
2026-12-04 14:15:04 configure ca-certificates:all 20250419~deb12u2 <none>
2026-12-04 14:15:04 status unpacked ca-certificates:all 20250419~deb12u2
2026-12-04 14:15:04 status half-configured ca-certificates:all 20250419~deb12u2
2026-12-04 14:17:54 status installed ca-certificates:all 20250419~deb12u2
2026-12-04 14:17:54 trigproc ca-certificates:all 20250419~deb12u2 <none>
2026-12-04 14:17:54 status half-configured ca-certificates:all 20250419~deb12u2
2026-12-04 14:19:39 status installed ca-certificates:all 20250419~deb12u2
2026-12-04 14:21:00 startup archives unpack
2026-12-04 14:21:01 install htop:amd64 <none> 3.2.2-2
2026-12-04 14:21:01 status half-installed htop:amd64 3.2.2-2
2026-12-04 14:21:05 status unpacked htop:amd64 3.2.2-2
"""


def test_time_goes_to_the_activity_each_line_starts():
    result = dpkg_profile.profile(LOG.splitlines(True))
    assert result["dpkg_runs"] == 2
    # ca-certificates' postinst 14:15:04 -> 14:17:54, then its own trigger 14:17:54 -> 14:19:39.
    assert result["by_package"][("configure", "ca-certificates")] == 170
    assert result["by_package"][("trigger", "ca-certificates")] == 105
    assert result["by_package"][("unpack", "htop")] == 4
    # The 81 s before the second run's startup line is apt/Ansible, not dpkg.
    assert sum(result["seconds"].values()) == 2 + 170 + 105 + 1 + 4


def test_since_leaves_out_earlier_lines():
    result = dpkg_profile.profile(LOG.splitlines(True), since="2026-12-04 14:20:00")
    assert result["dpkg_runs"] == 1 and result["by_package"] == {("dpkg", "archives unpack"): 1, ("unpack", "htop"): 4}


def test_the_cli_prints_the_totals(tmp_path, capsys):
    log = tmp_path / "dpkg.log"
    log.write_text(LOG)
    assert dpkg_profile.main([str(log), "--json", str(tmp_path / "out.json")]) == 0
    out = capsys.readouterr().out
    assert out.startswith("dpkg: 2 runs, 282 s in all") and "ca-certificates 105 s" in out
    assert (tmp_path / "out.json").exists()
