using ControlPlane.Postgres.Consistency;
using CsCheck;
using Xunit;

namespace ControlPlane.Tests.Consistency;

public sealed class ChunkPlanTests
{
    [Fact]
    public void A_plan_cuts_the_key_space_into_about_rows_per_chunk_ranges_open_at_both_ends()
    {
        var chunks = ChunkPlan.Plan(1, 1000, 1000, 100);

        Assert.Equal(10, chunks.Count);
        Assert.Equal(new KeyRange(null, 101), chunks[0]);
        Assert.Equal(new KeyRange(901, null), chunks[^1]);
    }

    [Fact]
    public void A_small_table_is_one_unbounded_chunk()
    {
        Assert.Equal(new[] { KeyRange.All }, ChunkPlan.Plan(5, 9, 5, 100_000));
    }

    [Fact]
    public void Plans_and_splits_cover_every_key_exactly_once()
    {
        Gen.Select(Gen.Long[-1_000_000, 1_000_000], Gen.Long[0, 100_000], Gen.Long[0, 2_000_000], Gen.Int[1, 50_000], Gen.Int[2, 16])
            .Sample((min, width, rows, perChunk, parts) =>
            {
                var max = min + width;
                var chunks = ChunkPlan.Plan(min, max, rows, perChunk);
                AssertCovers(chunks, min - 5, max + 5);
                foreach (var chunk in chunks.Take(3)) AssertSplitCovers(chunk, min, max, parts);
            });
    }

    [Fact]
    public void The_extremes_of_bigint_plan_without_overflow()
    {
        var chunks = ChunkPlan.Plan(long.MinValue, long.MaxValue, 10_000_000, 100_000);

        Assert.Equal(100, chunks.Count);
        Assert.Null(chunks[0].From);
        Assert.Null(chunks[^1].To);
        Assert.True(ChunkPlan.CanSplit(chunks[50], long.MinValue, long.MaxValue));
    }

    [Fact]
    public void Narrowing_ends_at_a_single_key()
    {
        var range = new KeyRange(40, 41);

        Assert.False(ChunkPlan.CanSplit(range, 0, 100));
        Assert.Equal(new[] { range }, ChunkPlan.Split(range, 0, 100, 8));
        Assert.Equal("[40, 41)", range.ToString());
        Assert.Equal("[-inf, +inf)", KeyRange.All.ToString());
    }

    [Fact]
    public void Splitting_an_open_range_keeps_its_open_side()
    {
        var parts = ChunkPlan.Split(new KeyRange(null, 50), 0, 100, 5);

        Assert.Null(parts[0].From);
        Assert.Equal(50, parts[^1].To);
        Assert.Equal(5, parts.Count);
    }

    private static void AssertSplitCovers(KeyRange range, long min, long max, int parts)
    {
        var split = ChunkPlan.Split(range, min, max, parts);
        Assert.True(split.Count <= parts);
        Assert.Equal(range.From, split[0].From);
        Assert.Equal(range.To, split[^1].To);
        for (var i = 1; i < split.Count; i++) Assert.Equal(split[i - 1].To, split[i].From);
    }

    private static void AssertCovers(IReadOnlyList<KeyRange> chunks, long from, long to)
    {
        Assert.Null(chunks[0].From);
        Assert.Null(chunks[^1].To);
        for (var i = 1; i < chunks.Count; i++)
        {
            Assert.Equal(chunks[i - 1].To, chunks[i].From);
            Assert.True(chunks[i].From < (chunks[i].To ?? long.MaxValue));
        }
        foreach (var key in new[] { from, to, (from + to) / 2 }) Assert.Single(chunks, c => c.Contains(key));
    }
}

public sealed class RowDigestTests
{
    [Fact]
    public void Combining_row_hashes_does_not_depend_on_their_order_or_on_how_they_are_chunked()
    {
        Gen.Select(Gen.Long.Array[0, 200], Gen.Int[0, 1000], Gen.Int[1, 7])
            .Sample((hashes, seed, chunkCount) =>
            {
                var whole = RowDigest.Of(hashes);
                var shuffled = (long[])hashes.Clone();
                new Random(seed).Shuffle(shuffled);
                Assert.Equal(whole, RowDigest.Of(shuffled));
                var chunks = shuffled.Select((h, i) => (h, i)).GroupBy(x => x.i % chunkCount).Select(g => RowDigest.Of(g.Select(x => x.h)));
                Assert.Equal(whole, RowDigest.Combine(chunks.Reverse()));
            });
    }

    [Fact]
    public void A_changed_row_changes_the_digest_while_the_count_stays()
    {
        var before = RowDigest.Of([1, 2, 3]);
        var after = RowDigest.Of([1, 2, 4]);

        Assert.Equal(before.Rows, after.Rows);
        Assert.NotEqual(before, after);
    }

    [Theory]
    [InlineData("0", 0UL)]
    [InlineData("-1", ulong.MaxValue)]
    [InlineData("18446744073709551616", 0UL)]
    [InlineData("18446744073709551617", 1UL)]
    [InlineData("-18446744073709551617", ulong.MaxValue)]
    public void A_numeric_sum_from_postgres_reduces_modulo_2_to_the_64(string sum, ulong expected)
    {
        Assert.Equal(expected, RowDigest.ReduceSum(sum));
    }

    [Fact]
    public void The_sum_postgres_computes_equals_the_wrapping_sum_of_the_hashes()
    {
        long[] hashes = [long.MaxValue, long.MaxValue, long.MinValue, -5];
        var exact = hashes.Aggregate(System.Numerics.BigInteger.Zero, (a, h) => a + h);

        Assert.Equal(RowDigest.Of(hashes).Sum, RowDigest.ReduceSum(exact.ToString(System.Globalization.CultureInfo.InvariantCulture)));
    }
}
