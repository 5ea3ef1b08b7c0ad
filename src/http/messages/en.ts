/**
 * The English texts of the web pages and the account mails. This catalogue defines the shape every other
 * language's must have ({@link Messages}): `ko.ts` is declared with that type, so a key missing there, or one
 * only there, does not compile. Texts are plain strings (the pages escape them); a text with a value in it is
 * a function. Mail templates are plain text with `{link}` and `{email}` placeholders (`fillTemplate`).
 */

/** A mail: its subject, and its plain-text body with placeholders. */
export interface MailTemplate {
  subject: string
  body: string
}

export const en = {
  language: {
    /** The language's own name, as the switch shows it. */
    name: 'English',
    /** The BCP 47 tag of dates and relative times. */
    locale: 'en-GB',
    switchLabel: 'Language',
  },

  layout: {
    siteName: 'Sesame',
    homeLabel: 'Sesame home',
    logIn: 'Log in',
    signUp: 'Sign up',
    account: 'Account',
    signedInAs: 'Signed in as',
    footer: 'Sesame keeps your sign-in safe.',
  },

  form: {
    email: 'Email',
    emailPlaceholder: 'name@example.com',
    password: 'Password',
    show: 'Show',
    hide: 'Hide',
    showPassword: 'Show password',
    or: 'or',
    continueWith: (provider: string) => `Continue with ${provider}`,
  },

  home: {
    title: 'Welcome',
    heading: 'One account, kept safe',
    lead: 'Sesame is the sign-in for this site. Create an account once, log in on any device, and stay in control of where you are signed in.',
    signUp: 'Create an account',
    logIn: 'Log in',
    devicesTitle: 'Every device in one place',
    devicesText: 'See where you are signed in, and log out of any device with one click.',
    passwordsTitle: 'Passwords kept safe',
    passwordsText: 'Your password is stored only as a strong one-way hash, never as you typed it.',
    everywhereTitle: 'Log out everywhere',
    everywhereText: 'Lost a phone or used a shared computer? End every session at once.',
    signedInHeading: 'Welcome back',
    signedInLead: (email: string) => `You are signed in as ${email}.`,
    goToAccount: 'Go to your account',
  },

  signUp: {
    title: 'Sign up',
    heading: 'Create your account',
    lead: 'It takes less than a minute.',
    passwordHint: (min: number) =>
      `At least ${min} characters. A few unrelated words make a strong password.`,
    submit: 'Sign up',
    busy: 'Creating your account…',
    haveAccount: 'Already have an account?',
    logIn: 'Log in',
  },

  logIn: {
    title: 'Log in',
    heading: 'Log in',
    lead: 'Welcome back. Log in to continue.',
    forgot: 'Forgot password?',
    submit: 'Log in',
    busy: 'Logging in…',
    newHere: 'New to Sesame?',
    signUp: 'Create an account',
  },

  secondFactor: {
    title: 'Two-step sign-in',
    heading: 'One more step',
    lead: 'Enter the six-digit code from your authenticator app.',
    codeLabel: 'Code',
    submit: 'Continue',
    busy: 'Checking…',
    useRecoveryCode: 'Lost your phone? Use a recovery code',
    recoveryLead:
      'Enter one of the recovery codes you saved when you set up two-step sign-in. Each works once.',
    recoveryLabel: 'Recovery code',
    useApp: 'Use a code from your app instead',
    startOver: 'Start over',
  },

  twoStep: {
    heading: 'Two-step sign-in',
    leadOff:
      'Add a second step to your sign-in: after your password, a six-digit code from an authenticator app on your phone. Someone who learns your password still cannot get in.',
    leadOn: 'After your password, Sesame asks for a code from your authenticator app.',
    setUp: 'Set up an authenticator app',
    app: 'Authenticator app',
    added: (date: string) => `Added ${date}`,
    lastUsed: (ago: string) => `last used ${ago}`,
    codesLeft: (count: number) => (count === 1 ? '1 recovery code left' : `${count} recovery codes left`),
    codeToConfirm: 'Code from your app (or a recovery code)',
    turnOff: 'Turn off',
    turnOffBusy: 'Turning off…',
    newCodes: 'Make new recovery codes',
    newCodesBusy: 'Making codes…',
    setupTitle: 'Set up an authenticator app',
    setupLead:
      'Scan this code with an authenticator app (Google Authenticator, Microsoft Authenticator, 1Password, …), then enter the six-digit code it shows.',
    qrLabel: 'QR code to scan with your authenticator app',
    cantScan: 'Cannot scan? Enter this key in the app:',
    confirm: 'Turn on two-step sign-in',
    confirmBusy: 'Checking…',
    cancel: 'Cancel',
    codesTitle: 'Your recovery codes',
    codesLead:
      'If you lose your phone, each of these codes lets you sign in once instead of a code from the app. Save them somewhere safe, like a password manager. They are shown only now.',
    codesDone: 'I have saved my codes',
  },

  account: {
    title: 'Account',
    heading: 'Your account',
    lead: 'Manage how you sign in and where you are signed in.',
    profileHeading: 'Profile',
    email: 'Email',
    verified: 'Verified',
    notVerified: 'Not verified',
    accountId: 'Account ID',
    memberSince: 'Member since',

    devicesHeading: 'Where you are signed in',
    devicesLead: 'Browsers and apps signed in to your account. Log out of any you do not recognise.',
    thisDevice: 'This device',
    app: 'App',
    browserOn: (browser: string, os: string) => `${browser} on ${os}`,
    unknownDevice: 'Unknown device',
    activeNow: 'Active now',
    lastActive: (when: string) => `Last active ${when}`,
    signedInSince: (when: string) => `Signed in ${when}`,
    endOne: 'Log out',
    endOneLabel: (device: string) => `Log out ${device}`,
    endOthers: 'Log out other devices',
    endAll: 'Log out everywhere',
    endAllHint: 'Ends every session, this one included. You will need to log in again.',

    changePasswordHeading: 'Change password',
    changePasswordLead: 'Other devices are logged out when your password changes.',
    currentPassword: 'Current password',
    newPassword: 'New password',
    changePasswordSubmit: 'Change password',
    changePasswordBusy: 'Changing…',
    setPasswordHeading: 'Set a password',
    setPasswordLead:
      'Your account has no password yet: you sign in through a provider. Set one to log in with your email too.',
    setPasswordSubmit: 'Set password',
    setPasswordBusy: 'Saving…',

    verificationLead: 'Confirm your address with the link we mailed you.',
    sendVerification: 'Send the link again',
    sendVerificationBusy: 'Sending…',
    changeEmailHeading: 'Change email',
    changeEmailLead: 'We send a link to the new address; the change happens when you open it.',
    newEmail: 'New email',
    changeEmailSubmit: 'Send confirmation',
    changeEmailBusy: 'Sending…',
    deleteHeading: 'Delete account',
    deleteLead: 'Deletes your account, its sign-in providers and every session, for good.',
    deleteSubmit: 'Delete my account',
    deleteBusy: 'Deleting…',

    providersHeading: 'Sign-in providers',
    providersLead: 'Accounts at other services you can log in with.',
    link: 'Link',
    unlink: 'Unlink',
    notLinked: 'Not linked',

    logOut: 'Log out',
  },

  /** The pages that links in mails open, and the request for a reset link. */
  links: {
    forgotTitle: 'Forgot password',
    forgotHeading: 'Reset your password',
    forgotLead: 'Enter the email of your account and we will send you a link to choose a new password.',
    forgotSubmit: 'Send the link',
    forgotBusy: 'Sending…',
    forgotSent: (minutes: number) =>
      `If an account uses this address, a link to reset its password is on its way. It works for ${minutes} minutes.`,
    resetTitle: 'New password',
    resetHeading: 'Choose a new password',
    resetLead: 'Every device signed in to your account will be logged out.',
    resetSubmit: 'Set new password',
    resetBusy: 'Saving…',
    verifyTitle: 'Confirm email',
    verifyHeading: 'Confirm your email address',
    verifyLead: 'One click to confirm that this address is yours.',
    verifySubmit: 'Confirm my email',
    changeTitle: 'Confirm new email',
    changeHeading: 'Confirm your new email address',
    changeLead: 'Your account will use this address from now on.',
    changeSubmit: 'Confirm new email',
    confirmBusy: 'Confirming…',
    invalidLink: 'This link is invalid or has expired. A link works once, and only the newest one we sent.',
    askAgain: 'Ask for a new link',
    backToLogIn: 'Back to log in',
  },

  /** The OAuth authorization endpoint: its consent screen, and its page for a request it cannot trust. */
  authorize: {
    consentTitle: 'Allow access',
    consentHeading: (app: string) => `${app} wants to use your Sesame account`,
    consentLead: 'If you allow it, it will be able to:',
    scopes: {
      openid: 'Know who you are (your account id)',
      profile: 'See your basic profile',
      email: 'See your email address and whether it is confirmed',
      offline_access: 'Stay connected when you are not using it',
    } as Record<string, string>,
    otherScope: (scope: string) => `Use “${scope}”`,
    returnsTo: (host: string) => `You will go back to ${host}.`,
    allow: 'Allow',
    deny: 'Cancel',
    busy: 'Continuing…',
    errorTitle: 'Cannot continue',
    errorHeading: 'This sign-in link cannot be used',
    problems: {
      no_client: 'The link does not say which application sent you.',
      no_redirect_uri: 'The link does not say where to send you back.',
      unknown_client: 'The application that sent you is not registered here.',
      redirect_uri_mismatch:
        'The application asked to send you to an address it has not registered, so you are not sent there.',
      signed_out: 'You were signed out before you answered. Start again from the application.',
      request_expired:
        'This sign-in request is too old or not from this server. Start again from the application.',
      invalid_hint: 'The application sent a sign-out request this server did not issue.',
      logout_redirect_mismatch:
        'The application asked to send you to an address it has not registered, so you are not sent there.',
    },
    errorHelp: 'Go back to the application and try again. If it keeps happening, tell its makers.',
    logoutTitle: 'Log out',
    logoutHeading: 'Log out of Sesame?',
    logoutLead: 'An application asked to log you out. You will be logged out on this device.',
    logoutConfirm: 'Log out',
    logoutBusy: 'Logging out…',
    appsTitle: 'Apps with access',
    appsLead: 'Applications you allowed to use your account.',
    appsRevoke: 'Remove access',
    appsRevokeBusy: 'Removing…',
    appsAllowed: (date: string) => `Allowed ${date}`,
  },

  /** What a page says about a field or a form that could not be accepted: plain words, no field names. */
  errors: {
    emailRequired: 'Enter your email address.',
    emailInvalid: 'Enter a valid email address, like name@example.com.',
    emailInvisible: 'This email address contains a hidden or unusual character. Please type it again.',
    emailTaken: 'An account with this email already exists. Log in instead, or use another email.',
    passwordRequired: 'Enter your password.',
    passwordTooShort: (min: number) => `Your password needs at least ${min} characters.`,
    passwordTooLong: (max: number) => `Your password can be at most ${max} characters.`,
    passwordCommon: 'This password is too common and easy to guess. Choose another one.',
    passwordLikeEmail: 'Your password must not be your email address.',
    passwordInvalid: 'This password cannot be used. Please choose another one.',
    currentPasswordRequired: 'Enter your current password.',
    currentPasswordWrong: 'That is not your current password.',
    noPasswordYet: 'Your account has no password yet: just choose a new one.',
    invalidCredentials: 'The email or password is incorrect.',
    wrongCode:
      'That code is not right, or was used already. Check the time on your phone and try the newest code.',
    wrongRecoveryCode: 'That recovery code is not right, or was used already.',
    sameEmail: 'This is already your email address.',
    mailUnavailable: 'We could not send the mail. Please try again in a moment.',
    emailNotVerified: 'Please confirm your email address first. We have sent you a new link.',
    rateLimited: 'Too many attempts. Please wait a few minutes and try again.',
    sessionLimit: 'You are signed in on too many devices. Log out on another device first.',
    unavailable: 'Sesame is briefly unavailable. Please try again in a moment.',
    generic: 'Something went wrong. Please check the form and try again.',
    insecureCookie: (host: string) =>
      `This page is served over plain HTTP at ${host}, so your browser refuses the session cookie and you cannot ` +
      'stay signed in. Serve Sesame over HTTPS (and set SESAME_ISSUER to its https URL), or open it at ' +
      'http://localhost. For development on another host only: SESAME_COOKIE_SECURE=false with ' +
      'SESAME_COOKIE_NAME=sesame.',
  },

  /** The one-line notices a page shows after a redirect (`?notice=`; kinds in `pages/notices.ts`). */
  notices: {
    welcome: 'Welcome to Sesame! Your account is ready and you are signed in.',
    sign_in_expired: 'The sign-in took too long and has expired. Please log in again.',
    confirm_sign_in: 'For your security, sign in again to continue.',
    two_step_on: 'Two-step sign-in is on. Sesame will ask for a code from your app after your password.',
    two_step_off: 'Two-step sign-in is off.',
    setup_expired: 'The setup took too long. Please start again.',
    wrong_code: 'That code is not right, or was used already.',
    signed_out: 'You are signed out.',
    signed_out_everywhere: 'You are signed out on every device.',
    device_ended: 'That device is logged out.',
    device_not_found: 'That device was already logged out.',
    app_removed: 'The app no longer has access to your account, and is signed out.',
    app_not_found: 'That app had no access to remove.',
    others_ended: 'All your other devices are logged out.',
    password_changed: 'Your password is changed. Your other devices are logged out.',
    linked: 'The provider is linked: you can now sign in with it.',
    unlinked: 'The provider is unlinked.',
    password_set: 'Your password is set. You can now log in with your email too.',
    verification_sent: 'We sent you a new link. Open it to confirm your email address.',
    already_verified: 'Your email address is already confirmed.',
    email_verified: 'Your email address is confirmed. Thank you!',
    verify_to_continue:
      'Your account is ready. Open the link we mailed you to confirm your address, then log in.',
    password_reset: 'Your password is changed and every device is logged out. Log in with the new password.',
    email_change_sent: 'We sent a link to your new address. The change happens when you open it.',
    email_changed: 'Your email address is changed.',
    account_deleted: 'Your account is deleted. Goodbye!',
    invalid_link: 'This link is invalid or has expired. Ask for a new one.',
    email_taken: 'An account with this email already exists.',
    mail_unavailable: 'We could not send the mail. Please try again in a moment.',
    wrong_password: 'That is not your current password.',
    verify_before_link:
      'Confirm your email address first (Send the link again, above), then link the provider.',
    email_invalid: 'Enter a valid email address that is not already yours.',
    social_cancelled: 'The sign-in was cancelled at the provider.',
    social_sign_in_failed: 'The sign-in with the provider could not be completed. Please try again.',
    unknown_provider: 'That sign-in provider is not available here.',
    provider_unavailable: 'The provider could not be reached. Please try again in a moment.',
    social_email_missing:
      'The provider did not share your email address, which a new account needs. Allow it there, or sign up with a password.',
    email_exists_unlinked:
      'An account with this email already exists. Log in with your password, then link the provider from your account page.',
    identity_taken: 'That provider account is already linked to another account.',
    provider_already_linked:
      'Your account is already linked to an account at this provider. Unlink it first.',
    last_sign_in_method: 'This is your only way to sign in. Set a password or link another provider first.',
    not_found: 'That provider is not linked to your account.',
    invalid_credentials: 'This account cannot sign in.',
    email_not_verified: 'Please confirm your email address first. We have sent you a new link.',
    invalid_session: 'Your session ended before the provider answered. Please sign in again.',
    rate_limited: 'Too many attempts. Please wait a while and try again.',
    session_limit_reached: 'You are signed in on too many devices. Log out on another device first.',
    store_unavailable: 'Sesame is briefly unavailable. Please try again.',
    unexpected: 'Something went wrong. Please try again.',
  },

  /** The account mails: `{link}` is the link to open, `{email}` the address concerned. */
  mail: {
    verifyEmail: {
      subject: 'Confirm your email address for Sesame',
      body:
        'Hello,\n\n' +
        'Please confirm that {email} is your email address by opening this link:\n\n' +
        '{link}\n\n' +
        'The link is valid for 24 hours. If you did not create a Sesame account, you can ignore this email.\n\n' +
        '— Sesame',
    },
    resetPassword: {
      subject: 'Reset your Sesame password',
      body:
        'Hello,\n\n' +
        'Someone asked to reset the password of the Sesame account for {email}. ' +
        'To choose a new password, open this link:\n\n' +
        '{link}\n\n' +
        'The link is valid for 30 minutes and works once. If it was not you, ignore this email: ' +
        'your password stays as it is.\n\n' +
        '— Sesame',
    },
    changeEmailConfirm: {
      subject: 'Confirm your new email address for Sesame',
      body:
        'Hello,\n\n' +
        'You asked to change the email address of your Sesame account to {email}. ' +
        'To confirm the change, open this link:\n\n' +
        '{link}\n\n' +
        'The link is valid for 24 hours. If you did not ask for this, ignore this email and nothing changes.\n\n' +
        '— Sesame',
    },
    changeEmailNotice: {
      subject: 'Your Sesame email address is being changed',
      body:
        'Hello,\n\n' +
        'Someone asked to change the email address of your Sesame account to {email}. ' +
        'The change happens once the new address is confirmed.\n\n' +
        'If this was not you, change your password now and log out the devices you do not recognise ' +
        'on your account page.\n\n' +
        '— Sesame',
    },
  } satisfies Record<string, MailTemplate>,
}

/** The shape of every catalogue: the English one's, with its texts widened to `string`. */
export type Messages = typeof en
