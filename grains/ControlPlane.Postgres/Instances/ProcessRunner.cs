using System.Diagnostics;
using System.Text;

namespace ControlPlane.Postgres.Instances;

/// <summary>What to run: a tool and its arguments as a list (never a shell string), and how.</summary>
public sealed record ProcessSpec(string FileName, IReadOnlyList<string> Arguments)
{
    public TimeSpan Timeout { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>Run as the <c>postgres</c> OS user when this process is root (PostgreSQL refuses root).</summary>
    public bool AsPostgres { get; init; }

    /// <summary>Extra environment for the child, e.g. <c>PGPASSFILE</c>; values are never logged.</summary>
    public IReadOnlyDictionary<string, string>? Environment { get; init; }

    public string? WorkingDirectory { get; init; }

    /// <summary>The command line for logs and errors: tool name and arguments, never environment values.</summary>
    public string Display => Arguments.Count == 0
        ? Path.GetFileName(FileName)
        : $"{Path.GetFileName(FileName)} {string.Join(' ', Arguments)}";
}

/// <summary>How a finished process ended.</summary>
public sealed record ProcessResult(int ExitCode, string StandardOutput, string StandardError)
{
    public bool Succeeded => ExitCode == 0;
}

/// <summary>
/// Callbacks into a running process: <paramref name="Started"/> gets its pid at once (a pid file for orphan
/// clean-up), <paramref name="ErrorLine"/> each standard-error line as it comes (progress). Neither may throw.
/// </summary>
public sealed record ProcessWatch(Action<int>? Started = null, Action<string>? ErrorLine = null);

/// <summary>A tool exited non-zero; the message carries the command (no secrets travel on command lines) and its stderr.</summary>
public sealed class ProcessFailedException(string message) : Exception(message);

/// <summary>Runs tools with a timeout and captured output.</summary>
public static class ProcessRunner
{
    public static async Task<ProcessResult> RunAsync(ProcessSpec spec, CancellationToken ct, ProcessWatch? watch = null)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var psi = new ProcessStartInfo
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            // The postgres user cannot chdir into root's working directory; "/" is always reachable.
            WorkingDirectory = spec.WorkingDirectory ?? "/",
        };
        if (spec.AsPostgres && OsUser.IsRoot)
        {
            psi.FileName = OsUser.RunuserPath;
            foreach (var a in (string[])["-u", OsUser.PostgresUser, "--", spec.FileName]) psi.ArgumentList.Add(a);
        }
        else
        {
            psi.FileName = spec.FileName;
        }
        foreach (var a in spec.Arguments) psi.ArgumentList.Add(a);
        if (spec.Environment is not null)
        {
            foreach (var (k, v) in spec.Environment) psi.Environment[k] = v;
        }

        using var process = new Process { StartInfo = psi };
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (stdout) stdout.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (stderr) stderr.AppendLine(e.Data);
            watch?.ErrorLine?.Invoke(e.Data);
        };
        if (!process.Start()) throw new ProcessFailedException($"could not start '{spec.Display}'");
        try
        {
            watch?.Started?.Invoke(process.Id);
        }
        catch
        {
            try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            throw;
        }
        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(spec.Timeout);
        try
        {
            await process.WaitForExitAsync(deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            ct.ThrowIfCancellationRequested();
            throw new TimeoutException($"'{spec.Display}' did not finish within {spec.Timeout.TotalSeconds:0.#}s and was killed.");
        }
        // The parameterless wait drains the asynchronous output readers.
        process.WaitForExit();
        lock (stdout) lock (stderr) return new ProcessResult(process.ExitCode, stdout.ToString(), stderr.ToString());
    }

    /// <summary>Runs and throws <see cref="ProcessFailedException"/> on a non-zero exit.</summary>
    public static async Task<ProcessResult> RunCheckedAsync(ProcessSpec spec, CancellationToken ct, ProcessWatch? watch = null)
    {
        var result = await RunAsync(spec, ct, watch).ConfigureAwait(false);
        if (!result.Succeeded)
        {
            throw new ProcessFailedException(
                $"'{spec.Display}' exited with {result.ExitCode}: {Tail(result.StandardError.Length > 0 ? result.StandardError : result.StandardOutput)}");
        }
        return result;
    }

    internal static string Tail(string text)
    {
        var t = text.Trim();
        return t.Length <= 600 ? t : "..." + t[^600..];
    }
}
