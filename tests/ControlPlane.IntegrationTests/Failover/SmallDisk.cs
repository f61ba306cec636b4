using System.Diagnostics;
using ControlPlane.Postgres.Instances;
using Xunit;

namespace ControlPlane.IntegrationTests.Failover;

/// <summary>
/// A fact that needs root (to mount a filesystem) and mount(8): skipped, with the reason, where either is missing.
/// </summary>
public sealed class RootFactAttribute : FactAttribute
{
    public RootFactAttribute()
    {
        if (!OperatingSystem.IsLinux()) Skip = "needs Linux: the scenario mounts a small tmpfs under an instance";
        else if (Environment.UserName != "root") Skip = $"needs root to mount a small tmpfs under an instance (running as {Environment.UserName})";
        else if (!File.Exists("/bin/mount") && !File.Exists("/usr/bin/mount")) Skip = "needs mount(8) to mount a small tmpfs under an instance";
    }
}

/// <summary>
/// Puts a stopped instance's data directory on a tmpfs of its own, just larger than the data, so a writer can fill
/// it: the data directory's contents are copied onto the tmpfs mounted at the same path, and pg_wal moves to a
/// sibling directory on the real disk (linked back), so the server's WAL never runs out and what fills is what
/// clients' writes extend: tables (SQLSTATE 53100). Disposing kills whatever still runs in the directory, unmounts
/// it and leaves it empty (the instance must then be rebuilt: <see cref="LocalInstanceDriver.RejoinAsync(ControlPlane.Postgres.Fleet.ReplicaEndpoint, string, bool, Func{ControlPlane.Postgres.Failover.DivergentWal, CancellationToken, Task}, CancellationToken)"/>).
/// </summary>
public sealed class SmallDisk : IAsyncDisposable
{
    private readonly LocalInstanceDriver _driver;
    private readonly string _walOutside;
    private bool _mounted;

    private SmallDisk(LocalInstanceDriver driver)
    {
        _driver = driver;
        _walOutside = driver.DataDirectory + ".wal-outside";
    }

    public string DataDirectory => _driver.DataDirectory;

    public long SizeBytes { get; private set; }

    /// <summary>Moves the stopped instance of <paramref name="driver"/> onto a tmpfs of its data's size plus <paramref name="headroomBytes"/>.</summary>
    public static async Task<SmallDisk> MoveOntoAsync(LocalInstanceDriver driver, long headroomBytes)
    {
        var disk = new SmallDisk(driver);
        try
        {
            await disk.MoveAsync(headroomBytes);
            return disk;
        }
        catch
        {
            await disk.DisposeAsync();
            throw;
        }
    }

    private async Task MoveAsync(long headroomBytes)
    {
        var data = _driver.DataDirectory;
        var staging = data + ".original";
        await RunAsync("mv", Path.Combine(data, "pg_wal"), _walOutside);
        await RunAsync("mv", data, staging);
        Directory.CreateDirectory(data);
        var used = long.Parse((await RunAsync("du", "-sb", staging)).Split('\t')[0], System.Globalization.CultureInfo.InvariantCulture);
        SizeBytes = (used + headroomBytes + 4095) / 4096 * 4096;
        await RunAsync("mount", "-t", "tmpfs", "-o", $"size={SizeBytes},mode=0700", "tmpfs", data);
        _mounted = true;
        await RunAsync("chown", "--reference=" + staging, data);
        await RunAsync("cp", "-a", staging + "/.", data + "/");
        await RunAsync("ln", "-s", _walOutside, Path.Combine(data, "pg_wal"));
        await RunAsync("chown", "-h", "--reference=" + staging, Path.Combine(data, "pg_wal"));
        Directory.Delete(staging, recursive: true);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await _driver.FenceAsync(CancellationToken.None);
        }
        catch (Exception ex) when (ex is TimeoutException or InvalidOperationException or IOException)
        {
        }
        if (_mounted)
        {
            // A process that just died may still hold the mount for a moment; lazy unmount is the last resort.
            for (var attempt = 0; _mounted && attempt < 20; attempt++)
            {
                _mounted = !await TryRunAsync("umount", _driver.DataDirectory);
                if (_mounted) await Task.Delay(250);
            }
            if (_mounted) _mounted = !await TryRunAsync("umount", "-l", _driver.DataDirectory);
        }
        if (Directory.Exists(_walOutside)) Directory.Delete(_walOutside, recursive: true);
        // The mount point is left empty: the instance is rebuilt from its primary.
        foreach (var entry in Directory.Exists(_driver.DataDirectory) ? Directory.EnumerateFileSystemEntries(_driver.DataDirectory).ToList() : [])
        {
            if (Directory.Exists(entry) && !File.GetAttributes(entry).HasFlag(FileAttributes.ReparsePoint)) Directory.Delete(entry, recursive: true);
            else File.Delete(entry);
        }
    }

    /// <summary>The fixture's last resort: lazily unmounts every filesystem a failed scenario left under <paramref name="root"/>.</summary>
    public static async Task UnmountAllUnderAsync(string root)
    {
        if (!OperatingSystem.IsLinux() || !File.Exists("/proc/self/mounts")) return;
        var prefix = Path.GetFullPath(root).TrimEnd('/') + "/";
        var mounted = (await File.ReadAllLinesAsync("/proc/self/mounts"))
            .Select(line => line.Split(' '))
            .Where(fields => fields.Length > 1 && fields[1].StartsWith(prefix, StringComparison.Ordinal))
            .Select(fields => fields[1])
            .OrderByDescending(path => path.Length);
        foreach (var path in mounted) await TryRunAsync("umount", "-l", path);
    }

    private static async Task<bool> TryRunAsync(string file, params string[] args)
    {
        try
        {
            await RunAsync(file, args);
            return true;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    private static async Task<string> RunAsync(string file, params string[] args)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) start.ArgumentList.Add(a);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{file} did not start");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0) throw new InvalidOperationException($"{file} {string.Join(' ', args)} exited {process.ExitCode}: {(await stderr).Trim()}");
        return await stdout;
    }
}
