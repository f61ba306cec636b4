namespace ControlPlane.Grains.Sla;

/// <summary>
/// Books each write probe into the tier's availability history. Pure: the grain owns the clock and the writes.
/// The time between two observations counts as writable only when both succeeded (an outage therefore lasts from
/// the last good write to the next good one, never less than a client saw); a gap longer than
/// <see cref="SlaOptions.MaxGap"/> counts as unobserved.
/// </summary>
public static class SlaLedger
{
    /// <summary>Books <paramref name="o"/>; true when an outage opened or closed (worth persisting at once).</summary>
    public static bool Observe(SlaState state, SlaObservation o, SlaOptions options)
    {
        if (state.LastObservedAt is { } previous && o.At <= previous) return false;
        var observedGap = state.LastObservedAt is { } prev && o.At - prev <= options.MaxGap;
        if (observedGap) Credit(state, state.LastObservedAt!.Value, o.At, state.LastWritable && o.Writable, options.BucketLength);
        state.FirstObservedAt ??= o.At;

        var transition = false;
        var open = state.Outages.Count > 0 && state.Outages[^1].End is null ? state.Outages[^1] : null;
        if (!o.Writable && open is null)
        {
            var start = observedGap && state.LastWritable ? state.LastObservedAt!.Value : o.At;
            state.Outages.Add(new SlaOutage(start, null, o.Error, o.Primary, o.Term));
            transition = true;
        }
        else if (o.Writable && open is not null)
        {
            state.Outages[^1] = open with { End = o.At, PrimaryAfter = o.Primary, TermAfter = o.Term, Interrupted = open.Interrupted || !observedGap };
            transition = true;
        }
        else if (open is not null && !observedGap)
        {
            state.Outages[^1] = open with { Interrupted = true };
        }

        state.LastObservedAt = o.At;
        state.LastWritable = o.Writable;
        state.LastError = o.Error;
        Trim(state, o.At, options);
        return transition;
    }

    /// <summary>Keeps the worst archive RPO seen in the bucket of <paramref name="at"/>.</summary>
    public static void ObserveArchiveRpo(SlaState state, DateTimeOffset at, TimeSpan rpo, SlaOptions options)
    {
        var index = BucketIndex(state, Floor(at, options.BucketLength));
        var bucket = state.Buckets[index];
        if (bucket.MaxArchiveRpoSeconds is null || rpo.TotalSeconds > bucket.MaxArchiveRpoSeconds)
            state.Buckets[index] = bucket with { MaxArchiveRpoSeconds = rpo.TotalSeconds };
    }

    public static DateTimeOffset Floor(DateTimeOffset at, TimeSpan length) =>
        new(at.UtcTicks - at.UtcTicks % length.Ticks, TimeSpan.Zero);

    /// <summary>Spreads the interval over the buckets it crosses.</summary>
    private static void Credit(SlaState state, DateTimeOffset from, DateTimeOffset to, bool writable, TimeSpan length)
    {
        var cursor = from;
        while (cursor < to)
        {
            var start = Floor(cursor, length);
            var end = start + length < to ? start + length : to;
            var seconds = (end - cursor).TotalSeconds;
            var index = BucketIndex(state, start);
            var bucket = state.Buckets[index];
            state.Buckets[index] = bucket with
            {
                ObservedSeconds = bucket.ObservedSeconds + seconds,
                WritableSeconds = bucket.WritableSeconds + (writable ? seconds : 0),
            };
            cursor = end;
        }
    }

    /// <summary>The bucket starting at <paramref name="start"/>, created in order when missing.</summary>
    private static int BucketIndex(SlaState state, DateTimeOffset start)
    {
        for (var i = state.Buckets.Count - 1; i >= 0; i--)
        {
            if (state.Buckets[i].Start == start) return i;
            if (state.Buckets[i].Start < start)
            {
                state.Buckets.Insert(i + 1, new SlaBucket(start, 0, 0));
                return i + 1;
            }
        }
        state.Buckets.Insert(0, new SlaBucket(start, 0, 0));
        return 0;
    }

    private static void Trim(SlaState state, DateTimeOffset now, SlaOptions options)
    {
        var oldest = Floor(now - options.Retention, options.BucketLength);
        state.Buckets.RemoveAll(b => b.Start < oldest);
        state.Outages.RemoveAll(o => o.End is { } end && end < oldest);
        var excess = state.Outages.Count - options.MaxOutages;
        if (excess > 0) state.Outages.RemoveRange(0, excess);
    }
}
