using ControlPlane.Postgres.Instances;

namespace ControlPlane.Postgres.Backups;

/// <summary>
/// The files of one tar-format base backup: <c>base.tar[.lz4|.zst|.gz]</c>, <c>pg_wal.tar[...]</c> and
/// <c>backup_manifest</c>, how pg_basebackup is told to compress them, and how they are laid out again (GNU tar
/// with the matching decompressor, since PostgreSQL 15's tools read plain directories only).
/// </summary>
internal static class BackupArchives
{
    public const string ManifestFile = "backup_manifest";
    public const string BaseStem = "base";
    public const string WalStem = "pg_wal";

    private static readonly string[] Suffixes = [".tar", ".tar.lz4", ".tar.zst", ".tar.gz"];

    /// <summary>The compressions a request may name.</summary>
    public static IReadOnlyList<string> Compressions { get; } = ["lz4", "zstd", "gzip", "none"];

    /// <summary>pg_basebackup's <c>--compress</c> value for <paramref name="compression"/> (compressed on the client, so the source spends no CPU on it).</summary>
    public static string CompressArgument(string compression) => compression switch
    {
        "lz4" => "client-lz4",
        "zstd" => "client-zstd",
        "gzip" => "client-gzip",
        "none" => "none",
        _ => throw new ArgumentException(
            $"Compression '{compression}' is not supported; expected one of {string.Join(", ", Compressions)}.", nameof(compression)),
    };

    /// <summary>The archive <paramref name="stem"/> (<c>base</c> or <c>pg_wal</c>) in <paramref name="backupDirectory"/>, or null.</summary>
    public static string? Find(string backupDirectory, string stem) =>
        Suffixes.Select(s => Path.Combine(backupDirectory, stem + s)).FirstOrDefault(File.Exists);

    /// <summary>The decompressor tar must run for <paramref name="archive"/>, null for a plain tar.</summary>
    public static string? Decompressor(string archive) => Path.GetExtension(archive) switch
    {
        ".lz4" => "lz4",
        ".zst" => "zstd",
        ".gz" => "gzip",
        ".tar" => null,
        var other => throw new ArgumentException($"'{archive}' is not a tar archive this engine writes (extension '{other}').", nameof(archive)),
    };

    /// <summary>
    /// Extracts <paramref name="archive"/> into the existing <paramref name="target"/>; as the postgres user when
    /// <paramref name="asPostgres"/> (then the files are postgres's, as a data directory must be). A damaged archive
    /// fails with <see cref="ProcessFailedException"/> naming tar's complaint.
    /// </summary>
    public static async Task ExtractAsync(string archive, string target, bool asPostgres, TimeSpan timeout, CancellationToken ct)
    {
        List<string> args = ["-x", "-f", archive, "-C", target];
        if (Decompressor(archive) is { } tool)
        {
            // Full path: the postgres user's PATH (through runuser) is not necessarily ours.
            var path = OsUser.FindOnPath(tool)
                ?? throw new FileNotFoundException($"'{tool}' is needed to read '{archive}' and is not on PATH; install it.", tool);
            args.InsertRange(0, ["-I", path]);
        }
        var tar = OsUser.FindOnPath("tar") ?? throw new FileNotFoundException("GNU tar is needed to read base backups and is not on PATH.", "tar");
        await ProcessRunner.RunCheckedAsync(new ProcessSpec(tar, args) { AsPostgres = asPostgres, Timeout = timeout }, ct).ConfigureAwait(false);
    }

    /// <summary>
    /// PostgreSQL 15's pg_basebackup compresses the WAL archive (<c>pg_wal.tar</c>, at least one 16 MB segment) only
    /// with gzip; with lz4 or zstd it stays plain. Compresses it like the base archive, in the backup's still-partial
    /// directory (so a crash here leaves no complete-looking backup), with the tool's own fast level.
    /// </summary>
    public static async Task CompressWalAsync(string backupDirectory, string compression, TimeSpan timeout, CancellationToken ct)
    {
        var plain = Path.Combine(backupDirectory, WalStem + ".tar");
        if (!File.Exists(plain)) return;
        (string Tool, string[] Args)? command = compression switch
        {
            "lz4" => ("lz4", ["-q", "-1", "--rm", plain, plain + ".lz4"]),
            "zstd" => ("zstd", ["-q", "-1", "--rm", plain, "-o", plain + ".zst"]),
            "gzip" => ("gzip", ["-1", plain]),
            _ => null,
        };
        if (command is not { } c) return;
        var path = OsUser.FindOnPath(c.Tool)
            ?? throw new FileNotFoundException($"'{c.Tool}' is needed to compress the backup's WAL archive and is not on PATH; install it.", c.Tool);
        await ProcessRunner.RunCheckedAsync(new ProcessSpec(path, c.Args) { AsPostgres = true, Timeout = timeout }, ct).ConfigureAwait(false);
    }

    /// <summary>Lays the backup's base archive into <paramref name="target"/> and its WAL archive (when present) into <c>target/pg_wal</c>.</summary>
    /// <returns>The bytes of the archives read.</returns>
    public static async Task<long> ExtractBackupAsync(string backupDirectory, string target, bool asPostgres, TimeSpan timeout, CancellationToken ct)
    {
        var baseArchive = Find(backupDirectory, BaseStem)
            ?? throw new FileNotFoundException($"Base backup '{backupDirectory}' has no base.tar archive.", Path.Combine(backupDirectory, "base.tar"));
        await ExtractAsync(baseArchive, target, asPostgres, timeout, ct).ConfigureAwait(false);
        var bytes = new FileInfo(baseArchive).Length;
        if (Find(backupDirectory, WalStem) is { } walArchive)
        {
            var walTarget = Path.Combine(target, "pg_wal");
            if (!Directory.Exists(walTarget)) throw new InvalidDataException($"'{baseArchive}' holds no pg_wal directory; the archive is not a PostgreSQL base backup.");
            await ExtractAsync(walArchive, walTarget, asPostgres, timeout, ct).ConfigureAwait(false);
            bytes += new FileInfo(walArchive).Length;
        }
        return bytes;
    }

    /// <summary>Total size of the files stored in <paramref name="directory"/>.</summary>
    public static long StoredBytes(string directory) =>
        new DirectoryInfo(directory).EnumerateFiles("*", SearchOption.AllDirectories).Sum(f => f.Length);
}
