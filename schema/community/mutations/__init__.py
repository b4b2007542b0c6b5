import graphene

from .areas import SetAreaBoundary
from .auth import RefreshToken, RevokeToken, TokenAuth
from .consent import RecordMyConsent, RecordResidentConsent
from .contacts import AddEmergencyContact, CreateHousehold, RemoveEmergencyContact
from .hazards import CreateHazardPoint, RecordInspection, UpdateHazardPoint
from .import_residents import ImportResidents
from .reports import SetReportStatus, SubmitReport
from .residents import (
    ConfirmMyPhone,
    RegisterMyResidentProfile,
    RegisterResident,
    UpdateMyResidentProfile,
    UpdateResident,
)
from .second_factor import BeginTotpEnrolment, ConfirmTotpEnrolment, RegenerateRecoveryCodes


class CommunityMutations(graphene.ObjectType):
    token_auth = TokenAuth.Field()
    refresh_token = RefreshToken.Field()
    revoke_token = RevokeToken.Field()
    begin_totp_enrolment = BeginTotpEnrolment.Field()
    confirm_totp_enrolment = ConfirmTotpEnrolment.Field()
    regenerate_recovery_codes = RegenerateRecoveryCodes.Field()
    # areas
    set_area_boundary = SetAreaBoundary.Field()
    # residents, households, contacts
    register_my_resident_profile = RegisterMyResidentProfile.Field()
    update_my_resident_profile = UpdateMyResidentProfile.Field()
    confirm_my_phone = ConfirmMyPhone.Field()
    register_resident = RegisterResident.Field()
    update_resident = UpdateResident.Field()
    create_household = CreateHousehold.Field()
    add_emergency_contact = AddEmergencyContact.Field()
    remove_emergency_contact = RemoveEmergencyContact.Field()
    import_residents = ImportResidents.Field()
    # consent (PIPL)
    record_my_consent = RecordMyConsent.Field()
    record_resident_consent = RecordResidentConsent.Field()
    # hazard points and inspections
    create_hazard_point = CreateHazardPoint.Field()
    update_hazard_point = UpdateHazardPoint.Field()
    record_inspection = RecordInspection.Field()
    # resident reports
    submit_report = SubmitReport.Field()
    set_report_status = SetReportStatus.Field()
