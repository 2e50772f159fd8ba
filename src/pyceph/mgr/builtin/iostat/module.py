"""`ceph iostat [--width N] [--print-header]`: client throughput and IOPS of the cluster.

Behaves as upstream's iostat module of 16.2.15 (src/pybind/mgr/iostat): the
rates come from `get('io_rate')` (the PG statistics delta over `stamp_delta`
seconds), one table row per call (each column `width` wide), a header with
`--print-header`, and the `ceph` CLI may poll it (a `poll` command).
"""

from __future__ import annotations

from mgr_module import CLIReadCommand, HandleCommandResult, MgrModule

#: Column headers of the table.
COLUMNS = ["Read", "Write", "Total", "Read IOPS", "Write IOPS", "Total IOPS"]
#: Keys `io_rate` must carry (checked by `self_test`, as upstream's module does).
STAT_KEYS = ("num_read_kb", "num_write_kb", "num_read", "num_write")


class Module(MgrModule):
    def self_test(self) -> None:
        delta = self.get("io_rate")["pg_stats_delta"]
        assert "stamp_delta" in delta
        for key in STAT_KEYS:
            assert key in delta["stat_sum"]

    def rates(self) -> tuple[int, int, int, int]:
        """(read B/s, write B/s, read op/s, write op/s) over the last stats interval."""
        delta = self.get("io_rate")["pg_stats_delta"]
        seconds = int(float(delta["stamp_delta"]))
        if seconds <= 0:
            return 0, 0, 0, 0
        s = delta["stat_sum"]
        return (
            (s["num_read_kb"] // seconds) << 10,
            (s["num_write_kb"] // seconds) << 10,
            s["num_read"] // seconds,
            s["num_write"] // seconds,
        )

    @CLIReadCommand("iostat", poll=True)
    def iostat(self, width: int = 80, print_header: bool = False) -> HandleCommandResult:
        """
        Get IO rates
        """
        rd, wr, rd_ops, wr_ops = self.rates()
        out = ""
        if print_header:
            out += self.get_pretty_header(COLUMNS, width)
        row = [
            self.to_pretty_iec(rd) + "B/s",
            self.to_pretty_iec(wr) + "B/s",
            self.to_pretty_iec(rd + wr) + "B/s",
            str(rd_ops),
            str(wr_ops),
            str(rd_ops + wr_ops),
        ]
        out += self.get_pretty_row(row, width)
        return HandleCommandResult(stdout=out)
