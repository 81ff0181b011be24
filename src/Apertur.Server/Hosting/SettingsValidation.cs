using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Apertur.Server.Hosting;

/// <summary>
/// A settings (options) class that says what is wrong with its values: one sentence per problem, naming the full key
/// (<c>Apertur:Polling:DeliveryStatusRecheck must be positive (got 00:00:00).</c>), empty when the values are usable.
/// </summary>
public interface ISettings
{
    IReadOnlyList<string> Problems();
}

/// <summary>
/// The one way settings are bound and checked (docs/architecture.md "Settings"): <see cref="AddSettings{T}"/> binds a
/// section and validates it when the host starts, <see cref="ReadSettings{T}"/> does the same for the few settings needed
/// before the container exists. Either way a bad value stops the start with an <see cref="OptionsValidationException"/>
/// whose message lists every problem.
/// </summary>
public static class SettingsValidation
{
    /// <summary>Binds <typeparamref name="T"/> to <paramref name="section"/>, checked by its <see cref="ISettings.Problems"/> at start-up.</summary>
    public static OptionsBuilder<T> AddSettings<T>(this IServiceCollection services, string section) where T : class, ISettings
    {
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<T>, ProblemsValidator<T>>());
        return services.AddOptions<T>().BindConfiguration(section).ValidateOnStart();
    }

    /// <summary>
    /// Reads <typeparamref name="T"/> from <paramref name="section"/> now (settings that shape the registrations themselves),
    /// checked the same way: <see cref="OptionsValidationException"/> with the same sentences.
    /// </summary>
    public static T ReadSettings<T>(this IConfiguration configuration, string section) where T : class, ISettings, new()
    {
        var value = configuration.GetSection(section).Get<T>() ?? new T();
        return Check(value);
    }

    /// <summary><paramref name="value"/> when it has no problem; otherwise <see cref="OptionsValidationException"/> listing them.</summary>
    public static T Check<T>(T value) where T : class, ISettings
    {
        ArgumentNullException.ThrowIfNull(value);
        var problems = value.Problems();
        return problems.Count == 0 ? value : throw new OptionsValidationException(Options.DefaultName, typeof(T), problems);
    }

    private sealed class ProblemsValidator<T> : IValidateOptions<T> where T : class, ISettings
    {
        public ValidateOptionsResult Validate(string? name, T options)
        {
            var problems = options.Problems();
            return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
        }
    }
}
