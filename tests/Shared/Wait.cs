using System.Diagnostics;

namespace Apertur.Tests;

/// <summary>Polling for a condition in real time, with a deadline: background workers run on their own schedule even under a manual clock.</summary>
public static class Wait
{
    public static async Task UntilAsync(Func<Task<bool>> condition, TimeSpan? timeout = null, string? what = null)
    {
        var deadline = Stopwatch.StartNew();
        var limit = timeout ?? TimeSpan.FromSeconds(20);
        while (!await condition())
        {
            if (deadline.Elapsed > limit)
            {
                throw new TimeoutException($"Timed out after {limit.TotalSeconds} s waiting for {what ?? "a condition"}.");
            }
            await Task.Delay(20);
        }
    }
}
