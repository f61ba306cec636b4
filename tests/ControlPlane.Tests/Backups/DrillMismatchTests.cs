using ControlPlane.Postgres.Backups;
using Xunit;

namespace ControlPlane.Tests.Backups;

public sealed class DrillMismatchTests
{
    [Fact]
    public void Row_count_mismatches_name_the_table_and_both_counts_and_skip_matches()
    {
        TableCount[] expected = [new("app", "public.orders", 10), new("app", "public.lines", 4), new("app", "\"Q1\".sales", 2)];
        TableCount[] found = [new("app", "public.orders", 9), new("app", "public.lines", 4), new("app", "\"Q1\".sales", -1)];

        Assert.Equal(
            ["app.public.orders expected 10 found 9", "app.\"Q1\".sales expected 2 found -1 (no such table)"],
            DrillChecks.Mismatches(expected, found));
    }
}
