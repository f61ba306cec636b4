using System.Diagnostics;

namespace ControlPlane.Bench.Fleet;

/// <summary>Finds (and optionally builds, in Release) the silo the cold-start benchmark launches.</summary>
public static class SiloBinary
{
    public const string ProjectPath = "silo/ControlPlane.Silo";
    private const string Output = "silo/ControlPlane.Silo/bin/Release/net10.0/ControlPlane.Silo.dll";

    /// <summary>The repository root: the nearest directory above the current one (or this tool) holding ControlPlane.sln.</summary>
    public static DirectoryInfo? RepositoryRoot()
    {
        foreach (var start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "ControlPlane.sln"))) return dir;
            }
        }
        return null;
    }

    /// <summary>The built silo assembly of the repository, in Release.</summary>
    public static FileInfo? Default() => RepositoryRoot() is { } root ? new FileInfo(Path.Combine(root.FullName, Output)) : null;

    /// <summary><c>dotnet build -c Release silo/ControlPlane.Silo</c>; returns the build's output when it fails.</summary>
    public static async Task<string?> BuildAsync(DirectoryInfo root, TimeSpan timeout, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(root);
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = root.FullName,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { "build", "-c", "Release", ProjectPath, "-nologo", "-v", "q" }) start.ArgumentList.Add(arg);
        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start 'dotnet build'.");
        var stdout = process.StandardOutput.ReadToEndAsync(ct);
        var stderr = process.StandardError.ReadToEndAsync(ct);
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(ct);
        wait.CancelAfter(timeout);
        try
        {
            await process.WaitForExitAsync(wait.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }
        return process.ExitCode == 0 ? null : (await stdout) + (await stderr);
    }

    /// <summary>
    /// The silo to run: the given file, else the repository's Release build (built first unless <paramref name="noBuild"/>).
    /// Null with the exit code to return when there is none; the reason is written to <paramref name="stderr"/>.
    /// </summary>
    public static async Task<(FileInfo? Silo, int ExitCode)> PrepareAsync(FileInfo? given, bool noBuild, TextWriter stderr, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(stderr);
        var silo = given ?? Default();
        if (silo is null)
        {
            await stderr.WriteLineAsync("error: no --silo given and no ControlPlane.sln found above the current directory.");
            return (null, ExitCodes.Usage);
        }
        if (!noBuild && given is null && RepositoryRoot() is { } root)
        {
            await stderr.WriteLineAsync($"building {ProjectPath} (Release)...");
            if (await BuildAsync(root, TimeSpan.FromMinutes(10), ct) is { } failure)
            {
                await stderr.WriteLineAsync($"error: the silo does not build:\n{failure}");
                return (null, ExitCodes.Failed);
            }
        }
        if (!silo.Exists)
        {
            await stderr.WriteLineAsync($"error: silo '{silo.FullName}' does not exist; build it with 'dotnet build -c Release {ProjectPath}'.");
            return (null, ExitCodes.Usage);
        }
        return (silo, ExitCodes.Ok);
    }
}
