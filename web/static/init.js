// Runs first, before the page is painted: tells the NHS.UK frontend's CSS that its JavaScript
// will run (the design system's own template does this with an inline script, which this
// service's content security policy does not allow).
document.body.className += ' js-enabled' + ('noModule' in HTMLScriptElement.prototype ? ' nhsuk-frontend-supported' : '');
