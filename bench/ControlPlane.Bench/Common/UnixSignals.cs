using System.Runtime.InteropServices;

namespace ControlPlane.Bench.Common;

/// <summary>Sends POSIX signals: <see cref="System.Diagnostics.Process.Kill()"/> only knows SIGKILL.</summary>
public static class UnixSignals
{
    public const int SigTerm = 15;
    public const int SigKill = 9;

    /// <summary>Sends <paramref name="signal"/> to <paramref name="pid"/>; false when the process does not exist.</summary>
    public static bool Send(int pid, int signal) => pid > 0 && Kill(pid, signal) == 0;

    /// <summary>Whether a process with this pid exists and its command line contains <paramref name="name"/>.</summary>
    public static bool IsRunning(int pid, string name)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline").Contains(name, StringComparison.Ordinal);
        }
        catch (IOException)
        {
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);
}
