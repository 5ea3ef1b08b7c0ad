/** The Korean texts of the web pages and the account mails: the same keys as `en.ts`, checked by its type. */
import type { Messages } from './en.js'

export const ko: Messages = {
  language: {
    name: '한국어',
    locale: 'ko-KR',
    switchLabel: '언어',
  },

  layout: {
    siteName: 'Sesame',
    homeLabel: 'Sesame 홈',
    logIn: '로그인',
    signUp: '회원가입',
    account: '내 계정',
    signedInAs: '로그인 계정',
    footer: 'Sesame가 로그인을 안전하게 지켜 드립니다.',
  },

  form: {
    email: '이메일',
    emailPlaceholder: 'name@example.com',
    password: '비밀번호',
    show: '표시',
    hide: '숨기기',
    showPassword: '비밀번호 표시',
    or: '또는',
    continueWith: (provider) => `${provider}(으)로 계속하기`,
  },

  home: {
    title: '환영합니다',
    heading: '하나의 계정, 안전하게',
    lead: 'Sesame는 이 사이트의 로그인 서비스입니다. 한 번 가입하면 어느 기기에서든 로그인할 수 있고, 어디에 로그인되어 있는지 직접 관리할 수 있습니다.',
    signUp: '계정 만들기',
    logIn: '로그인',
    devicesTitle: '모든 기기를 한곳에서',
    devicesText: '어느 기기에 로그인되어 있는지 확인하고, 클릭 한 번으로 로그아웃할 수 있습니다.',
    passwordsTitle: '안전하게 보관되는 비밀번호',
    passwordsText: '비밀번호는 입력하신 그대로가 아니라, 되돌릴 수 없는 강력한 해시로만 저장됩니다.',
    everywhereTitle: '모든 기기에서 로그아웃',
    everywhereText: '휴대폰을 잃어버렸거나 공용 컴퓨터를 쓰셨나요? 모든 세션을 한 번에 종료할 수 있습니다.',
    signedInHeading: '다시 오신 것을 환영합니다',
    signedInLead: (email) => `${email} 계정으로 로그인되어 있습니다.`,
    goToAccount: '내 계정으로 이동',
  },

  signUp: {
    title: '회원가입',
    heading: '계정 만들기',
    lead: '1분이면 충분합니다.',
    passwordHint: (min) =>
      `${min}자 이상 입력해 주세요. 서로 관계없는 단어 몇 개를 이으면 강력한 비밀번호가 됩니다.`,
    submit: '회원가입',
    busy: '계정을 만드는 중…',
    haveAccount: '이미 계정이 있으신가요?',
    logIn: '로그인',
  },

  logIn: {
    title: '로그인',
    heading: '로그인',
    lead: '다시 오신 것을 환영합니다. 로그인해 주세요.',
    forgot: '비밀번호를 잊으셨나요?',
    submit: '로그인',
    busy: '로그인하는 중…',
    newHere: 'Sesame가 처음이신가요?',
    signUp: '계정 만들기',
  },

  secondFactor: {
    title: '2단계 로그인',
    heading: '한 단계만 더',
    lead: '인증 앱에 표시된 6자리 코드를 입력하세요.',
    codeLabel: '코드',
    submit: '계속',
    busy: '확인하는 중…',
    useRecoveryCode: '휴대폰을 잃어버리셨나요? 복구 코드 사용하기',
    recoveryLead:
      '2단계 로그인을 설정할 때 저장한 복구 코드 중 하나를 입력하세요. 각 코드는 한 번만 쓸 수 있습니다.',
    recoveryLabel: '복구 코드',
    useApp: '인증 앱의 코드 사용하기',
    startOver: '처음부터 다시',
  },

  twoStep: {
    heading: '2단계 로그인',
    leadOff:
      '로그인에 한 단계를 더하세요. 비밀번호를 입력한 뒤 휴대폰의 인증 앱에 표시된 6자리 코드를 입력합니다. 누군가 비밀번호를 알아내더라도 로그인할 수 없습니다.',
    leadOn: '비밀번호를 입력한 뒤 인증 앱의 코드를 한 번 더 확인합니다.',
    setUp: '인증 앱 설정하기',
    app: '인증 앱',
    added: (date: string) => `${date}에 추가됨`,
    lastUsed: (ago: string) => `마지막 사용 ${ago}`,
    codesLeft: (count: number) => `복구 코드 ${count}개 남음`,
    codeToConfirm: '인증 앱의 코드 (또는 복구 코드)',
    turnOff: '끄기',
    turnOffBusy: '끄는 중…',
    newCodes: '새 복구 코드 만들기',
    newCodesBusy: '만드는 중…',
    setupTitle: '인증 앱 설정하기',
    setupLead:
      '인증 앱(Google Authenticator, Microsoft Authenticator, 1Password 등)으로 이 코드를 스캔한 뒤, 앱에 표시된 6자리 코드를 입력하세요.',
    qrLabel: '인증 앱으로 스캔할 QR 코드',
    cantScan: '스캔할 수 없나요? 앱에 이 키를 입력하세요:',
    confirm: '2단계 로그인 켜기',
    confirmBusy: '확인하는 중…',
    cancel: '취소',
    codesTitle: '복구 코드',
    codesLead:
      '휴대폰을 잃어버리면 인증 앱의 코드 대신 이 코드로 한 번씩 로그인할 수 있습니다. 비밀번호 관리자 등 안전한 곳에 보관하세요. 지금만 표시됩니다.',
    codesDone: '코드를 저장했습니다',
  },

  account: {
    title: '내 계정',
    heading: '내 계정',
    lead: '로그인 방법과 로그인된 기기를 관리할 수 있습니다.',
    profileHeading: '프로필',
    email: '이메일',
    verified: '인증됨',
    notVerified: '인증 전',
    accountId: '계정 ID',
    memberSince: '가입일',

    devicesHeading: '로그인된 기기',
    devicesLead: '내 계정에 로그인된 브라우저와 앱입니다. 모르는 기기가 있다면 로그아웃해 주세요.',
    thisDevice: '현재 기기',
    app: '앱',
    browserOn: (browser, os) => `${os}의 ${browser}`,
    unknownDevice: '알 수 없는 기기',
    activeNow: '지금 사용 중',
    lastActive: (when) => `마지막 활동: ${when}`,
    signedInSince: (when) => `로그인: ${when}`,
    endOne: '로그아웃',
    endOneLabel: (device) => `${device} 로그아웃`,
    endOthers: '다른 기기에서 모두 로그아웃',
    endAll: '모든 기기에서 로그아웃',
    endAllHint: '지금 사용 중인 기기를 포함해 모든 세션이 종료되며, 다시 로그인해야 합니다.',

    changePasswordHeading: '비밀번호 변경',
    changePasswordLead: '비밀번호를 바꾸면 다른 기기에서는 로그아웃됩니다.',
    currentPassword: '현재 비밀번호',
    newPassword: '새 비밀번호',
    changePasswordSubmit: '비밀번호 변경',
    changePasswordBusy: '변경하는 중…',
    setPasswordHeading: '비밀번호 설정',
    setPasswordLead:
      '아직 비밀번호가 없어 연결된 서비스로만 로그인하고 계십니다. 비밀번호를 설정하면 이메일로도 로그인할 수 있습니다.',
    setPasswordSubmit: '비밀번호 설정',
    setPasswordBusy: '저장하는 중…',

    verificationLead: '메일로 보내 드린 링크로 주소를 확인해 주세요.',
    sendVerification: '링크 다시 보내기',
    sendVerificationBusy: '보내는 중…',
    changeEmailHeading: '이메일 변경',
    changeEmailLead: '새 주소로 링크를 보내 드리며, 링크를 여시면 변경됩니다.',
    newEmail: '새 이메일',
    changeEmailSubmit: '확인 메일 보내기',
    changeEmailBusy: '보내는 중…',
    deleteHeading: '계정 삭제',
    deleteLead: '계정과 연결된 로그인 서비스, 모든 세션이 영구히 삭제됩니다.',
    deleteSubmit: '계정 삭제하기',
    deleteBusy: '삭제하는 중…',

    providersHeading: '연결된 로그인 서비스',
    providersLead: '로그인에 사용할 수 있는 다른 서비스의 계정입니다.',
    link: '연결',
    unlink: '연결 해제',
    notLinked: '연결 안 됨',

    logOut: '로그아웃',
  },

  links: {
    forgotTitle: '비밀번호 찾기',
    forgotHeading: '비밀번호 재설정',
    forgotLead: '계정의 이메일 주소를 입력하시면 새 비밀번호를 정할 수 있는 링크를 보내 드립니다.',
    forgotSubmit: '링크 보내기',
    forgotBusy: '보내는 중…',
    forgotSent: (minutes: number) =>
      `이 주소를 쓰는 계정이 있다면 비밀번호 재설정 링크를 보내 드렸습니다. 링크는 ${minutes}분 동안 유효합니다.`,
    resetTitle: '새 비밀번호',
    resetHeading: '새 비밀번호 정하기',
    resetLead: '계정에 로그인된 모든 기기에서 로그아웃됩니다.',
    resetSubmit: '새 비밀번호 저장',
    resetBusy: '저장하는 중…',
    verifyTitle: '이메일 확인',
    verifyHeading: '이메일 주소 확인',
    verifyLead: '이 주소가 본인의 것임을 한 번의 클릭으로 확인해 주세요.',
    verifySubmit: '이메일 확인하기',
    changeTitle: '새 이메일 확인',
    changeHeading: '새 이메일 주소 확인',
    changeLead: '이제부터 계정에서 이 주소를 사용합니다.',
    changeSubmit: '새 이메일 확인하기',
    confirmBusy: '확인하는 중…',
    invalidLink: '유효하지 않거나 만료된 링크입니다. 링크는 한 번만, 가장 최근에 보낸 것만 쓸 수 있습니다.',
    askAgain: '새 링크 받기',
    backToLogIn: '로그인으로 돌아가기',
  },

  authorize: {
    consentTitle: '접근 허용',
    consentHeading: (app: string) => `${app}에서 Sesame 계정을 사용하려고 합니다`,
    consentLead: '허용하면 다음을 할 수 있게 됩니다:',
    scopes: {
      openid: '회원님이 누구인지 확인 (계정 ID)',
      profile: '기본 프로필 보기',
      email: '이메일 주소와 확인 여부 보기',
      offline_access: '사용하지 않을 때도 연결 유지',
    },
    otherScope: (scope: string) => `“${scope}” 사용`,
    returnsTo: (host: string) => `${host}(으)로 돌아갑니다.`,
    allow: '허용',
    deny: '취소',
    busy: '진행하는 중…',
    errorTitle: '계속할 수 없음',
    errorHeading: '이 로그인 링크는 사용할 수 없습니다',
    problems: {
      no_client: '링크에 어떤 애플리케이션에서 왔는지가 없습니다.',
      no_redirect_uri: '링크에 돌아갈 주소가 없습니다.',
      unknown_client: '회원님을 보낸 애플리케이션이 여기에 등록되어 있지 않습니다.',
      redirect_uri_mismatch:
        '애플리케이션이 등록하지 않은 주소로 보내 달라고 했기 때문에 그곳으로 보내지 않습니다.',
      signed_out: '응답하기 전에 로그아웃되었습니다. 애플리케이션에서 다시 시작해 주세요.',
      request_expired:
        '로그인 요청이 너무 오래되었거나 이 서버의 것이 아닙니다. 애플리케이션에서 다시 시작해 주세요.',
      invalid_hint: '애플리케이션이 이 서버가 발급하지 않은 로그아웃 요청을 보냈습니다.',
      logout_redirect_mismatch:
        '애플리케이션이 등록하지 않은 주소로 보내 달라고 했기 때문에 그곳으로 보내지 않습니다.',
    },
    errorHelp: '애플리케이션으로 돌아가 다시 시도해 주세요. 계속 이런 일이 생기면 제작자에게 알려 주세요.',
    logoutTitle: '로그아웃',
    logoutHeading: 'Sesame에서 로그아웃할까요?',
    logoutLead: '애플리케이션이 로그아웃을 요청했습니다. 이 기기에서 로그아웃됩니다.',
    logoutConfirm: '로그아웃',
    logoutBusy: '로그아웃하는 중…',
    appsTitle: '접근 권한이 있는 앱',
    appsLead: '계정 사용을 허용한 애플리케이션입니다.',
    appsRevoke: '접근 권한 삭제',
    appsRevokeBusy: '삭제하는 중…',
    appsAllowed: (date: string) => `${date}에 허용함`,
  },

  errors: {
    emailRequired: '이메일 주소를 입력해 주세요.',
    emailInvalid: '올바른 이메일 주소를 입력해 주세요. (예: name@example.com)',
    emailInvisible: '이메일 주소에 보이지 않거나 쓸 수 없는 문자가 들어 있습니다. 다시 입력해 주세요.',
    emailTaken: '이미 가입된 이메일 주소입니다. 로그인하시거나 다른 이메일을 사용해 주세요.',
    passwordRequired: '비밀번호를 입력해 주세요.',
    passwordTooShort: (min) => `비밀번호는 ${min}자 이상이어야 합니다.`,
    passwordTooLong: (max) => `비밀번호는 ${max}자 이하로 입력해 주세요.`,
    passwordCommon: '너무 흔하게 쓰여 추측하기 쉬운 비밀번호입니다. 다른 비밀번호를 입력해 주세요.',
    passwordLikeEmail: '이메일 주소를 비밀번호로 사용할 수 없습니다.',
    passwordInvalid: '사용할 수 없는 비밀번호입니다. 다른 비밀번호를 입력해 주세요.',
    currentPasswordRequired: '현재 비밀번호를 입력해 주세요.',
    currentPasswordWrong: '현재 비밀번호가 올바르지 않습니다.',
    noPasswordYet: '아직 비밀번호가 없는 계정입니다. 새 비밀번호만 입력해 주세요.',
    invalidCredentials: '이메일 또는 비밀번호가 올바르지 않습니다.',
    wrongCode:
      '코드가 올바르지 않거나 이미 사용되었습니다. 휴대폰의 시간을 확인하고 가장 최근 코드를 입력하세요.',
    wrongRecoveryCode: '복구 코드가 올바르지 않거나 이미 사용되었습니다.',
    sameEmail: '이미 사용 중인 이메일 주소입니다.',
    mailUnavailable: '메일을 보내지 못했습니다. 잠시 후 다시 시도해 주세요.',
    emailNotVerified: '먼저 이메일 주소를 인증해 주세요. 인증 링크를 새로 보내 드렸습니다.',
    rateLimited: '시도 횟수가 너무 많습니다. 몇 분 뒤에 다시 시도해 주세요.',
    sessionLimit: '로그인된 기기가 너무 많습니다. 다른 기기에서 먼저 로그아웃해 주세요.',
    unavailable: 'Sesame를 잠시 사용할 수 없습니다. 잠시 후 다시 시도해 주세요.',
    generic: '문제가 발생했습니다. 입력 내용을 확인한 뒤 다시 시도해 주세요.',
    insecureCookie: (host) =>
      `이 페이지는 ${host}에서 암호화되지 않은 HTTP로 제공되고 있어, 브라우저가 세션 쿠키를 받지 않으므로 로그인 상태를 ` +
      '유지할 수 없습니다. Sesame를 HTTPS로 제공하고 SESAME_ISSUER를 https 주소로 설정하시거나, ' +
      'http://localhost로 접속해 주세요. 다른 호스트에서 개발하는 경우에만 SESAME_COOKIE_SECURE=false와 ' +
      'SESAME_COOKIE_NAME=sesame을 함께 설정해 주세요.',
  },

  notices: {
    welcome: 'Sesame에 오신 것을 환영합니다! 계정이 만들어졌고 로그인되었습니다.',
    sign_in_expired: '로그인 시간이 초과되었습니다. 다시 로그인해 주세요.',
    confirm_sign_in: '보안을 위해 다시 로그인한 뒤 계속하세요.',
    two_step_on: '2단계 로그인이 켜졌습니다. 비밀번호 다음에 인증 앱의 코드를 확인합니다.',
    two_step_off: '2단계 로그인이 꺼졌습니다.',
    setup_expired: '설정 시간이 초과되었습니다. 다시 시작해 주세요.',
    wrong_code: '코드가 올바르지 않거나 이미 사용되었습니다.',
    signed_out: '로그아웃되었습니다.',
    signed_out_everywhere: '모든 기기에서 로그아웃되었습니다.',
    device_ended: '선택한 기기에서 로그아웃되었습니다.',
    device_not_found: '이미 로그아웃된 기기입니다.',
    app_removed: '앱의 계정 접근 권한을 삭제하고 로그아웃시켰습니다.',
    app_not_found: '삭제할 접근 권한이 없는 앱입니다.',
    others_ended: '다른 모든 기기에서 로그아웃되었습니다.',
    password_changed: '비밀번호가 변경되었습니다. 다른 기기에서는 로그아웃되었습니다.',
    linked: '서비스가 연결되었습니다. 이제 이 서비스로 로그인할 수 있습니다.',
    unlinked: '서비스 연결이 해제되었습니다.',
    password_set: '비밀번호가 설정되었습니다. 이제 이메일로도 로그인할 수 있습니다.',
    verification_sent: '새 링크를 보내 드렸습니다. 링크를 열어 이메일 주소를 확인해 주세요.',
    already_verified: '이메일 주소가 이미 확인되었습니다.',
    email_verified: '이메일 주소가 확인되었습니다. 감사합니다!',
    verify_to_continue: '계정이 만들어졌습니다. 메일로 보내 드린 링크로 주소를 확인하신 뒤 로그인해 주세요.',
    password_reset: '비밀번호가 변경되었고 모든 기기에서 로그아웃되었습니다. 새 비밀번호로 로그인해 주세요.',
    email_change_sent: '새 주소로 링크를 보내 드렸습니다. 링크를 여시면 변경됩니다.',
    email_changed: '이메일 주소가 변경되었습니다.',
    account_deleted: '계정이 삭제되었습니다. 이용해 주셔서 감사합니다.',
    invalid_link: '유효하지 않거나 만료된 링크입니다. 새 링크를 받아 주세요.',
    email_taken: '이미 이 이메일로 가입된 계정이 있습니다.',
    mail_unavailable: '메일을 보내지 못했습니다. 잠시 후 다시 시도해 주세요.',
    wrong_password: '현재 비밀번호가 맞지 않습니다.',
    verify_before_link:
      '먼저 이메일 주소를 확인해 주세요(위의 링크 다시 보내기). 그다음 서비스를 연결할 수 있습니다.',
    email_invalid: '지금 쓰는 주소가 아닌 올바른 이메일 주소를 입력해 주세요.',
    social_cancelled: '연결된 서비스에서 로그인이 취소되었습니다.',
    social_sign_in_failed: '연결된 서비스로 로그인하지 못했습니다. 다시 시도해 주세요.',
    unknown_provider: '이 로그인 서비스는 여기에서 사용할 수 없습니다.',
    provider_unavailable: '로그인 서비스에 연결할 수 없습니다. 잠시 후 다시 시도해 주세요.',
    social_email_missing:
      '새 계정을 만들려면 이메일 주소가 필요한데, 해당 서비스에서 이메일 주소를 받지 못했습니다. 그 서비스에서 이메일 제공을 허용하시거나 비밀번호로 가입해 주세요.',
    email_exists_unlinked:
      '이 이메일로 가입된 계정이 이미 있습니다. 비밀번호로 로그인한 뒤 내 계정 페이지에서 서비스를 연결해 주세요.',
    identity_taken: '이 서비스 계정은 이미 다른 계정에 연결되어 있습니다.',
    provider_already_linked: '이 서비스의 다른 계정이 이미 연결되어 있습니다. 먼저 연결을 해제해 주세요.',
    last_sign_in_method:
      '지금 사용할 수 있는 유일한 로그인 방법입니다. 먼저 비밀번호를 설정하거나 다른 서비스를 연결해 주세요.',
    not_found: '내 계정에 연결되지 않은 서비스입니다.',
    invalid_credentials: '이 계정으로는 로그인할 수 없습니다.',
    email_not_verified: '먼저 이메일 주소를 인증해 주세요. 인증 링크를 새로 보내 드렸습니다.',
    invalid_session: '서비스의 응답을 받기 전에 세션이 종료되었습니다. 다시 로그인해 주세요.',
    rate_limited: '시도 횟수가 너무 많습니다. 잠시 후 다시 시도해 주세요.',
    session_limit_reached: '로그인된 기기가 너무 많습니다. 다른 기기에서 먼저 로그아웃해 주세요.',
    store_unavailable: 'Sesame를 잠시 사용할 수 없습니다. 다시 시도해 주세요.',
    unexpected: '문제가 발생했습니다. 다시 시도해 주세요.',
  },

  mail: {
    verifyEmail: {
      subject: '[Sesame] 이메일 주소를 인증해 주세요',
      body:
        '안녕하세요.\n\n' +
        '{email} 주소가 회원님의 이메일이 맞는지 확인하려고 합니다. 아래 링크를 열어 인증을 완료해 주세요.\n\n' +
        '{link}\n\n' +
        '이 링크는 24시간 동안 유효합니다. Sesame 계정을 만드신 적이 없다면 이 메일은 무시하셔도 됩니다.\n\n' +
        'Sesame 드림',
    },
    resetPassword: {
      subject: '[Sesame] 비밀번호 재설정 안내',
      body:
        '안녕하세요.\n\n' +
        '{email} 계정의 비밀번호를 재설정해 달라는 요청이 접수되었습니다. ' +
        '아래 링크에서 새 비밀번호를 설정해 주세요.\n\n' +
        '{link}\n\n' +
        '이 링크는 30분 동안 유효하며 한 번만 사용할 수 있습니다. 본인이 요청하지 않으셨다면 이 메일은 무시해 주세요. ' +
        '비밀번호는 바뀌지 않습니다.\n\n' +
        'Sesame 드림',
    },
    changeEmailConfirm: {
      subject: '[Sesame] 새 이메일 주소를 인증해 주세요',
      body:
        '안녕하세요.\n\n' +
        'Sesame 계정의 이메일 주소를 {email}(으)로 변경해 달라는 요청이 접수되었습니다. ' +
        '아래 링크를 열어 변경을 완료해 주세요.\n\n' +
        '{link}\n\n' +
        '이 링크는 24시간 동안 유효합니다. 본인이 요청하지 않으셨다면 이 메일은 무시해 주세요. 아무것도 바뀌지 않습니다.\n\n' +
        'Sesame 드림',
    },
    changeEmailNotice: {
      subject: '[Sesame] 계정 이메일 주소 변경 요청 안내',
      body:
        '안녕하세요.\n\n' +
        'Sesame 계정의 이메일 주소를 {email}(으)로 변경해 달라는 요청이 접수되었습니다. ' +
        '새 주소가 인증되면 변경이 완료됩니다.\n\n' +
        '본인이 요청하지 않으셨다면 지금 바로 비밀번호를 변경하시고, 내 계정 페이지에서 모르는 기기를 로그아웃해 주세요.\n\n' +
        'Sesame 드림',
    },
  },
}
