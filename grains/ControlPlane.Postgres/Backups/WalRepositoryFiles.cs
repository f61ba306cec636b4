using System.Globalization;
using ControlPlane.Postgres.Instances;
using Microsoft.Extensions.Logging;

namespace ControlPlane.Postgres.Backups;

/// <summary>
/// File work on WAL directories: set-up, moving diverged WAL aside, mirroring, retention. WAL files belong to the
/// postgres user (restore_command runs as postgres and reads them); directories are 0700.
/// </summary>
internal static class WalRepositoryFiles
{
    public const string DivergedFolder = "diverged";
    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode OwnerOnlyDirectory = OwnerOnly | UnixFileMode.UserExecute;

    /// <summary>Creates <paramref name="directory"/> 0700, owned by postgres, reachable by it.</summary>
    public static async Task PrepareAsync(string directory, ILogger logger, CancellationToken ct)
    {
        Directory.CreateDirectory(directory);
        UnixFile.SetMode(directory, OwnerOnlyDirectory);
        await OsUser.GiveToPostgresAsync(directory, recursive: false, ct).ConfigureAwait(false);
        await OsUser.EnsureAncestorsTraversableAsync(directory, logger, ct).ConfigureAwait(false);
    }

    public static IEnumerable<WalFile> List(string directory, long segmentBytes) =>
        !Directory.Exists(directory)
            ? []
            : Directory.EnumerateFiles(directory)
                .Select(Path.GetFileName)
                .Select(n => WalSegments.TryParse(n!, segmentBytes, out var f) ? f : null)
                .OfType<WalFile>();

    /// <summary>The newest complete segment (highest segment, then timeline), or null.</summary>
    public static string? NewestSegment(string directory, long segmentBytes) =>
        List(directory, segmentBytes).Where(f => f.Kind == WalFileKind.Segment)
            .OrderByDescending(f => f.Segment).ThenByDescending(f => f.Timeline).FirstOrDefault()?.Name;

    /// <summary>
    /// Moves <paramref name="files"/> into <c>diverged/</c> (created when needed). A name already there (an earlier
    /// divergence of the same segment) is kept, and the newcomer gets a <c>.moved-&lt;UTC time&gt;</c> suffix.
    /// </summary>
    public static async Task MoveAsideAsync(string directory, IReadOnlyList<WalFile> files, ILogger logger, CancellationToken ct)
    {
        if (files.Count == 0) return;
        var diverged = Path.Combine(directory, DivergedFolder);
        if (!Directory.Exists(diverged)) await PrepareAsync(diverged, logger, ct).ConfigureAwait(false);
        foreach (var file in files)
        {
            var target = Path.Combine(diverged, file.Name);
            if (File.Exists(target)) target += ".moved-" + DateTime.UtcNow.ToString("yyyyMMdd'T'HHmmssfff'Z'", CultureInfo.InvariantCulture);
            File.Move(Path.Combine(directory, file.Name), target);
        }
    }

    /// <summary>An empty file for postgres (pg_receivewal takes an empty .partial as its own, just created).</summary>
    public static Task CreateEmptyAsync(string path, CancellationToken ct) =>
        File.Exists(path) ? Task.CompletedTask : OsUser.WriteFileAsync(path, "", OwnerOnly, forPostgres: true, ct);

    /// <summary>See <see cref="WalArchiver.MirrorAsync"/>.</summary>
    public static async Task<int> MirrorAsync(string source, string mirror, long segmentBytes, ILogger logger, CancellationToken ct)
    {
        await PrepareAsync(mirror, logger, ct).ConfigureAwait(false);
        var have = List(mirror, segmentBytes).ToDictionary(f => f.Name);
        var copied = 0;
        foreach (var file in List(source, segmentBytes))
        {
            ct.ThrowIfCancellationRequested();
            var from = Path.Combine(source, file.Name);
            var to = Path.Combine(mirror, file.Name);
            // Complete segments and history files never change once named; a .partial grows until it is renamed.
            var stale = file.Kind == WalFileKind.Partial && have.ContainsKey(file.Name)
                        && File.GetLastWriteTimeUtc(to) != File.GetLastWriteTimeUtc(from);
            if (have.ContainsKey(file.Name) && !stale) continue;
            if (await CopyAsync(from, to, ct).ConfigureAwait(false)) copied++;
        }
        await SettleMirrorAsync(source, mirror, segmentBytes, logger, ct).ConfigureAwait(false);
        return copied;
    }

    /// <summary>See <see cref="WalArchiver.DeleteBeforeAsync"/>.</summary>
    /// <param name="keepNewest">True where pg_receivewal writes (it resumes from the newest segment it finds); false
    /// for the mirror, whose newest segment may just lag behind the cutoff and would otherwise outlive retention.</param>
    public static WalCleanup DeleteBefore(string directory, ulong cutoffSegment, long segmentBytes, bool keepNewest = true)
    {
        var files = 0;
        var bytes = 0L;
        var listed = List(directory, segmentBytes).Where(f => f.Kind != WalFileKind.History).ToList();
        // pg_receivewal resumes from the newest segment it finds: never take that away, whatever the cutoff.
        var newest = !keepNewest ? ulong.MaxValue : listed.Count == 0 ? 0 : listed.Max(f => f.Segment);
        foreach (var file in listed.Where(f => f.Segment < cutoffSegment && f.Segment < newest))
        {
            Delete(Path.Combine(directory, file.Name), ref files, ref bytes);
        }
        var diverged = Path.Combine(directory, DivergedFolder);
        if (Directory.Exists(diverged))
        {
            foreach (var path in Directory.EnumerateFiles(diverged))
            {
                // Names there may carry a .moved-… suffix after the segment name; history files never match.
                var name = Path.GetFileName(path).Split('.')[0];
                if (WalSegments.TryParse(name, segmentBytes, out var file) && file.Segment < cutoffSegment) Delete(path, ref files, ref bytes);
            }
        }
        return new WalCleanup(files, bytes);
    }

    /// <summary>
    /// After copying: files the archive moved to <c>diverged/</c> move aside in the mirror too (a restore from the
    /// mirror must not meet them either), and a mirrored .partial whose complete segment is now mirrored goes.
    /// </summary>
    private static async Task SettleMirrorAsync(string source, string mirror, long segmentBytes, ILogger logger, CancellationToken ct)
    {
        var sourceDiverged = Path.Combine(source, DivergedFolder);
        var inSource = List(source, segmentBytes).Select(f => f.Name).ToHashSet();
        var mirrored = List(mirror, segmentBytes).ToList();
        var names = mirrored.Select(f => f.Name).ToHashSet();
        var aside = mirrored.Where(f => !inSource.Contains(f.Name) && File.Exists(Path.Combine(sourceDiverged, f.Name))).ToList();
        await MoveAsideAsync(mirror, aside, logger, ct).ConfigureAwait(false);
        foreach (var partial in mirrored.Where(f => f.Kind == WalFileKind.Partial && names.Contains(f.Name[..^".partial".Length])))
        {
            File.Delete(Path.Combine(mirror, partial.Name));
        }
    }

    /// <summary>Copies to a temporary name, fsyncs, gives it to postgres and renames; false when the source vanished meanwhile.</summary>
    private static async Task<bool> CopyAsync(string from, string to, CancellationToken ct)
    {
        var temp = to + ".tmp-" + Guid.NewGuid().ToString("N");
        try
        {
            // Taken before reading: a .partial written during the copy differs next time and is copied again.
            var written = File.GetLastWriteTimeUtc(from);
            await using (var input = new FileStream(from, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete))
            await using (var output = new FileStream(temp, UnixFile.CreateNewOptions(OwnerOnly)))
            {
                await input.CopyToAsync(output, ct).ConfigureAwait(false);
                output.Flush(flushToDisk: true);
            }
            UnixFile.SetMode(temp, OwnerOnly);
            await OsUser.GiveToPostgresAsync(temp, recursive: false, ct).ConfigureAwait(false);
            File.SetLastWriteTimeUtc(temp, written);
            File.Move(temp, to, overwrite: true);
            return true;
        }
        catch (FileNotFoundException)
        {
            // pg_receivewal renamed a finished .partial, or it was moved aside: the next pass sees the new name.
            return false;
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    private static void Delete(string path, ref int files, ref long bytes)
    {
        var length = new FileInfo(path).Length;
        File.Delete(path);
        files++;
        bytes += length;
    }
}
