namespace ControlPlane.Postgres.Consistency;

/// <summary>One table compared chunk by chunk across the check's snapshots, with differing chunks narrowed down.</summary>
internal static class TableComparison
{
    public static async Task<TableCheck> RunAsync(
        TableShape shape, CheckSession primary, IReadOnlyList<CheckSession> standbys, ComparisonOptions options, CancellationToken ct)
    {
        var bounds = shape.Key is null ? null : await primary.KeyBoundsAsync(shape.Name, shape.Key, ct).ConfigureAwait(false);
        // An empty table is one unbounded chunk: a replica's stray rows still show.
        var chunks = bounds is { } b ? ChunkPlan.Plan(b.Min, b.Max, shape.EstimatedRows, options.RowsPerChunk) : [KeyRange.All];
        var (min, max) = bounds ?? (0, 0);
        var primaryTotal = RowDigest.Empty;
        var totals = standbys.ToDictionary(s => s.Replica, _ => RowDigest.Empty);
        var differing = new List<(CheckSession Standby, KeyRange Range, RowDigest Primary, RowDigest Replica)>();
        foreach (var chunk in chunks)
        {
            var (p, onStandbys) = await DigestAllAsync(shape, primary, standbys, chunk, ct).ConfigureAwait(false);
            primaryTotal = primaryTotal.Combine(p);
            foreach (var (standby, digest) in onStandbys)
            {
                totals[standby.Replica] = totals[standby.Replica].Combine(digest);
                if (digest != p) differing.Add((standby, chunk, p, digest));
            }
        }

        var differences = new List<RangeDifference>();
        foreach (var group in differing.GroupBy(d => d.Standby))
        {
            var found = new List<RangeDifference>();
            foreach (var (standby, range, p, r) in group)
            {
                if (shape.Key is null || found.Count >= options.MaxRangesPerTable) found.Add(new RangeDifference(standby.Replica, range, p, r));
                else await NarrowAsync(shape, primary, standby, range, p, r, min, max, options, found, ct).ConfigureAwait(false);
            }
            differences.AddRange(found);
        }

        var mode = shape.Key is not null ? TableMode.KeyRanges : shape.HasPrimaryKey ? TableMode.WholeTable : TableMode.WholeTableNoPrimaryKey;
        var warning = mode == TableMode.WholeTableNoPrimaryKey
            ? $"{shape.Display} has no primary key: compared as one full-table checksum, so a difference cannot be narrowed to key ranges"
            : "";
        var compared = standbys.Where(s => !s.Failed).Select(s => new ReplicaDigest(s.Replica, totals[s.Replica])).ToList();
        return new TableCheck(shape.Display, mode, chunks.Count, primaryTotal, compared, differences, warning);
    }

    /// <summary>Cuts <paramref name="range"/> and descends into the parts that still differ, down to single keys.</summary>
    private static async Task NarrowAsync(
        TableShape shape, CheckSession primary, CheckSession standby, KeyRange range, RowDigest onPrimary, RowDigest onStandby,
        long min, long max, ComparisonOptions options, List<RangeDifference> found, CancellationToken ct)
    {
        if (found.Count >= options.MaxRangesPerTable || !ChunkPlan.CanSplit(range, min, max))
        {
            found.Add(new RangeDifference(standby.Replica, range, onPrimary, onStandby));
            return;
        }
        foreach (var part in ChunkPlan.Split(range, min, max, options.NarrowParts))
        {
            var p = await primary.DigestAsync(shape.Name, shape.Key, part, ct).ConfigureAwait(false);
            var s = await standby.DigestAsync(shape.Name, shape.Key, part, ct).ConfigureAwait(false);
            if (p is null || s is null)
            {
                // A session failed while narrowing: report what is known so far, at the coarser range.
                found.Add(new RangeDifference(standby.Replica, range, onPrimary, onStandby));
                return;
            }
            if (p != s) await NarrowAsync(shape, primary, standby, part, p.Value, s.Value, min, max, options, found, ct).ConfigureAwait(false);
        }
    }

    private static async Task<(RowDigest Primary, List<(CheckSession Standby, RowDigest Digest)> Standbys)> DigestAllAsync(
        TableShape shape, CheckSession primary, IReadOnlyList<CheckSession> standbys, KeyRange chunk, CancellationToken ct)
    {
        var onPrimary = primary.DigestAsync(shape.Name, shape.Key, chunk, ct);
        var onStandbys = standbys.Select(s => s.DigestAsync(shape.Name, shape.Key, chunk, ct)).ToList();
        var p = await onPrimary.ConfigureAwait(false)
            ?? throw new InvalidOperationException($"reading {shape.Display} on the primary failed: {primary.Error}");
        var results = new List<(CheckSession, RowDigest)>();
        for (var i = 0; i < standbys.Count; i++)
        {
            if (await onStandbys[i].ConfigureAwait(false) is { } d) results.Add((standbys[i], d));
        }
        return (p, results);
    }
}
