namespace Apertur.Server.Status;

/// <summary>The states a component of the status page can be in, as <c>/status.json</c> writes them.</summary>
public static class ComponentStates
{
    public const string Operational = "operational";
    public const string Degraded = "degraded";
    public const string Down = "down";

    /// <summary>The worse of two states.</summary>
    public static string Worst(string a, string b) => Rank(a) >= Rank(b) ? a : b;

    private static int Rank(string state) => state switch
    {
        Down => 2,
        Degraded => 1,
        _ => 0,
    };
}

/// <summary>
/// When a delivery component (a destination kind, event webhooks) is degraded or down, from its attempts of the last
/// <see cref="Window"/> and the age of its oldest due delivery: the one place these numbers live (docs/operations.md
/// "Status page"). Receivers are the customers' own servers, so one broken receiver among many makes a kind degraded, not
/// down; down means (nearly) nothing gets through, or the queue does not move.
/// </summary>
public static class StatusThresholds
{
    /// <summary>How far back the attempts are counted.</summary>
    public static readonly TimeSpan Window = TimeSpan.FromMinutes(15);

    /// <summary>Fewer attempts than this in the window say nothing about the success rate (one failure of two is not an outage).</summary>
    public const int MinAttempts = 5;

    /// <summary>Degraded when fewer attempts than this share succeed.</summary>
    public const double DegradedBelow = 0.90;

    /// <summary>Down when fewer attempts than this share succeed.</summary>
    public const double DownBelow = 0.10;

    /// <summary>Degraded when a delivery has been due for longer than this and not attempted.</summary>
    public static readonly TimeSpan DegradedLag = TimeSpan.FromMinutes(5);

    /// <summary>Down when a delivery has been due for longer than this and not attempted.</summary>
    public static readonly TimeSpan DownLag = TimeSpan.FromMinutes(30);

    /// <summary>The state from the attempts of the window (how many, how many succeeded) and the queue lag.</summary>
    public static string Of(int attempts, int succeeded, TimeSpan lag)
    {
        var byRate = attempts < MinAttempts ? ComponentStates.Operational
            : succeeded < attempts * DownBelow ? ComponentStates.Down
            : succeeded < attempts * DegradedBelow ? ComponentStates.Degraded
            : ComponentStates.Operational;
        var byLag = lag > DownLag ? ComponentStates.Down
            : lag > DegradedLag ? ComponentStates.Degraded
            : ComponentStates.Operational;
        return ComponentStates.Worst(byRate, byLag);
    }
}
