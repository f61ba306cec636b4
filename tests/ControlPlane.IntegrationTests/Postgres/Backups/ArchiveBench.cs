using System.Globalization;
using ControlPlane.IntegrationTests.Postgres.Failover;
using ControlPlane.Postgres.Backups;
using ControlPlane.Postgres.Health;
using ControlPlane.Postgres.Instances;
using Xunit.Abstractions;

namespace ControlPlane.IntegrationTests.Postgres.Backups;

/// <summary>
/// One test's primary and standby (a copy of the failover template, so tests may kill and promote at will), a WAL
/// archiver writing into a repository next to them and, when asked, a mirror repository. At the end the archiver
/// is stopped, any pg_receivewal still writing into either repository is killed, and the instances are fenced.
/// </summary>
internal sealed class ArchiveBench : IAsyncDisposable
{
    private readonly FailoverPairTemplate _template;

    private ArchiveBench(FailoverPairTemplate template, FailoverPair pair, bool mirror)
    {
        _template = template;
        Pair = pair;
        Repository = new TierRepository(Path.Combine(pair.Directory, "repo-a"), "test", FailoverPairTemplate.Tier);
        Mirror = mirror ? new TierRepository(Path.Combine(pair.Directory, "repo-b"), "test", FailoverPairTemplate.Tier) : null;
        Archiver = new WalArchiver(new WalArchiverOptions(Repository, Mirror) { MaxBackoff = TimeSpan.FromSeconds(2) }, pair.Log);
    }

    public FailoverPair Pair { get; }
    public TierRepository Repository { get; }
    public TierRepository? Mirror { get; }
    public WalArchiver Archiver { get; }
    public string Wal => Repository.WalDirectory;

    public static async Task<ArchiveBench> CreateAsync(FailoverPairTemplate template, ITestOutputHelper output, bool mirror = false) =>
        new(template, await template.CreatePairAsync(output), mirror);

    public ReplicationSource Source(LocalInstanceDriver instance) => new(instance.Endpoint, _template.ReplicatorPasswordFile);

    /// <summary>Commits one row on <paramref name="primary"/>; returns its WAL position after the commit.</summary>
    public static async Task<ulong> CommitAsync(LocalInstanceDriver primary)
    {
        await using var connection = await Sql.OpenAsync(primary.Endpoint);
        await Sql.ScalarAsync(connection, "CREATE TABLE IF NOT EXISTS archive_probe (id serial PRIMARY KEY, at timestamptz DEFAULT now())");
        await Sql.ScalarAsync(connection, "INSERT INTO archive_probe DEFAULT VALUES");
        return Lsn.Parse((string)(await Sql.ScalarAsync(connection, "SELECT pg_current_wal_lsn()::text"))!).Value;
    }

    /// <summary>Ends the current segment on <paramref name="primary"/> (call after a commit); returns that segment.</summary>
    public static async Task<ulong> SwitchAsync(LocalInstanceDriver primary)
    {
        var end = Lsn.Parse((string)(await Sql.ScalarAsync(primary.Endpoint, "SELECT pg_switch_wal()::text"))!).Value;
        return WalSegments.SegmentOf(end - 1, WalSegments.DefaultSegmentBytes);
    }

    public Task WaitStoredAsync(ulong lsn) =>
        Poll.UntilAsync(() => Archiver.SampleAsync(CancellationToken.None), s => s.StoredLsn >= lsn, $"the archive to store {new Lsn(lsn)}");

    public Task WaitReplayedAsync(LocalInstanceDriver standby, ulong lsn) =>
        Poll.UntilAsync(async () => Lsn.Parse((string)(await Sql.ScalarAsync(standby.Endpoint, "SELECT pg_last_wal_replay_lsn()::text"))!).Value,
            replayed => replayed >= lsn, $"{standby.Name} to replay {new Lsn(lsn)}");

    public string SegmentPath(int timeline, ulong segment) => Path.Combine(Wal, WalSegments.FileName(timeline, segment, WalSegments.DefaultSegmentBytes));

    public Task WaitSegmentAsync(int timeline, ulong segment) =>
        Poll.UntilAsync(() => Task.FromResult(File.Exists(SegmentPath(timeline, segment))), found => found,
            $"complete segment {Path.GetFileName(SegmentPath(timeline, segment))} in the archive");

    public IReadOnlyList<WalFile> Files(string directory) =>
        [.. Directory.EnumerateFiles(directory).Select(p => WalSegments.TryParse(Path.GetFileName(p), WalSegments.DefaultSegmentBytes, out var f) ? f : null)
            .OfType<WalFile>().OrderBy(f => f.Timeline).ThenBy(f => f.Segment)];

    /// <summary>Decodes every record of the archive on <paramref name="timeline"/> between two positions; throws on a gap.</summary>
    public async Task WalDumpAsync(int timeline, ulong from, ulong to) =>
        await ProcessRunner.RunCheckedAsync(
            new ProcessSpec(PgBinaries.Shared.Tool("pg_waldump"),
                ["-p", Wal, "-t", timeline.ToString(CultureInfo.InvariantCulture), "-s", new Lsn(from).ToString(), "-e", new Lsn(to).ToString(), "-q"]),
            CancellationToken.None);

    public async ValueTask DisposeAsync()
    {
        try
        {
            await Archiver.DisposeAsync();
        }
        finally
        {
            foreach (var repository in new[] { Repository, Mirror }.OfType<TierRepository>())
            {
                await WalReceiverProcess.KillOrphansAsync(Path.Combine(repository.TierDirectory, "pg_receivewal.pid"), repository.WalDirectory, CancellationToken.None);
            }
            await Pair.DisposeAsync();
        }
    }
}
